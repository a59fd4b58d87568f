#!/usr/bin/env bash
# Makes sure headless Chromium is at /usr/bin/chromium for the report's browser test
# (ReportBrowserTest). A no-op when it is there; as root with apt-get, installs Debian's
# `chromium` package quietly; otherwise says how to install it and exits 0, so that the build
# goes on and the browser test fails with the same message.
set -u
browser=/usr/bin/chromium
[ -x "$browser" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: installing Debian's chromium package for the report's browser test..."
  export DEBIAN_FRONTEND=noninteractive
  if { apt-get install -y -qq chromium >/dev/null 2>&1 \
       || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; } \
     && [ -x "$browser" ]; then
    echo "ensure-chromium: installed $("$browser" --version 2>/dev/null)"
    exit 0
  fi
  echo "ensure-chromium: 'apt-get install -y chromium' failed; the browser test will fail." >&2
  exit 0
fi
echo "ensure-chromium: $browser is missing and cannot be installed here (needs root and apt-get)." >&2
echo "ensure-chromium: install Debian's chromium package ('sudo apt-get install -y chromium')." >&2
exit 0
