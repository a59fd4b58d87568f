package dev.bufsync.ww;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/**
 * The back-off loop of {@link BackoffLoop} as a chain of futures, for the tests of the
 * asynchronous locks: no step blocks a thread.
 */
final class AsyncLoop {
    private AsyncLoop() {
    }

    /**
     * Locks every mutex of {@code order} with {@code ctx} asynchronously. After a back-off it
     * unlocks everything, tells {@code onBackoff}, locks the contended mutex with
     * {@code lockSlowAsync} and tries again; the future completes when all are held.
     */
    static CompletableFuture<Void> lockAll(AcquireContext ctx, List<WwMutex> order, Executor executor,
            Runnable onBackoff) {
        return lockFrom(ctx, order, 0, executor, onBackoff);
    }

    private static CompletableFuture<Void> lockFrom(AcquireContext ctx, List<WwMutex> order, int i,
            Executor executor, Runnable onBackoff) {
        if (i == order.size()) {
            return CompletableFuture.completedFuture(null);
        }
        return order.get(i).lockAsync(ctx, executor)
                .handle((result, failure) -> failure)
                .thenCompose(failure -> {
                    if (failure == null) {
                        return lockFrom(ctx, order, i + 1, executor, onBackoff);
                    }
                    Throwable cause = failure instanceof CompletionException c ? c.getCause() : failure;
                    if (!(cause instanceof BackoffException backoff)) {
                        return CompletableFuture.failedFuture(cause);
                    }
                    onBackoff.run();
                    ctx.unlockAll();
                    return backoff.mutex().lockSlowAsync(ctx, executor)
                            .thenCompose(held -> lockFrom(ctx, order, 0, executor, onBackoff));
                });
    }
}
