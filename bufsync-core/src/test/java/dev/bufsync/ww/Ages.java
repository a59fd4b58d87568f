package dev.bufsync.ww;

/**
 * Gives test transactions their ages up front. A context takes its stamp at its first conflict,
 * the holder before the context that meets it; a test that names an older and a younger
 * transaction stamps them as it begins them, so that age is begin order there.
 */
final class Ages {
    private Ages() {
    }

    /** Stamps {@code ctx} now (if it has no stamp yet) and returns it. */
    static AcquireContext stamped(AcquireContext ctx) {
        ctx.stamped();
        return ctx;
    }
}
