#!/usr/bin/env bash
# Makes sure a headless Chrome or Chromium is there for the report's browser test
# (ReportBrowserTest), for CI: a no-op when one is found where the test looks (CHROME_BIN, PATH,
# /usr/bin); as root with apt-get, installs Debian's chromium package; otherwise says how and
# exits 1. The Maven build itself never installs anything: without a browser the test is skipped,
# unless BUFSYNC_REQUIRE_BROWSER=1 (which .ci/run sets) makes it fail.
set -u
for b in "${CHROME_BIN:-}" chromium chromium-browser google-chrome google-chrome-stable; do
  if [ -n "$b" ] && command -v "$b" >/dev/null 2>&1; then
    exit 0
  fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian's chromium package for the report's browser test..."
  export DEBIAN_FRONTEND=noninteractive
  if { apt-get install -y -qq chromium >/dev/null 2>&1 \
       || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; } \
     && command -v chromium >/dev/null 2>&1; then
    echo "ensure-chromium: installed $(chromium --version 2>/dev/null)"
    exit 0
  fi
  echo "ensure-chromium: 'apt-get install -y chromium' failed." >&2
  exit 1
fi
echo "ensure-chromium: no Chrome or Chromium found, and it cannot be installed here (needs root and apt-get)." >&2
echo "ensure-chromium: install one ('sudo apt-get install -y chromium') or set CHROME_BIN to it." >&2
exit 1
