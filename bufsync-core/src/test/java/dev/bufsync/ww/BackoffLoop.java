package dev.bufsync.ww;

import java.util.List;

/** The documented back-off loop (see {@link AcquireContext}), written once for the tests that run it. */
final class BackoffLoop {
    private BackoffLoop() {
    }

    /**
     * Locks every mutex of {@code order} with {@code ctx}. After a back-off it unlocks everything,
     * tells {@code onBackoff}, locks the contended mutex with {@code lockSlow} and tries again.
     */
    static void lockAll(AcquireContext ctx, List<WwMutex> order, Runnable onBackoff) {
        WwMutex contended = null;
        for (;;) {
            try {
                if (contended != null) {
                    contended.lockSlow(ctx);
                }
                for (WwMutex m : order) {
                    m.lock(ctx);
                }
                return;
            } catch (BackoffException e) {
                onBackoff.run();
                ctx.unlockAll();
                contended = e.mutex();
            }
        }
    }
}
