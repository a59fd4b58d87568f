package dev.bufsync.fence;

/**
 * A fence born signalled, on context 0 with sequence number 0: the shared stub and the private
 * stubs of {@link Fences#signaledAt(long)} (the kernel's {@code dma_fence_get_stub} and
 * {@code dma_fence_allocate_private_stub}).
 */
final class StubFence extends Fence {
    StubFence(long timestamp) {
        super(0L, 0L, timestamp);
    }

    @Override
    String timelineName() {
        return "stub";
    }
}
