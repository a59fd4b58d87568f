package dev.bufsync;

/**
 * Fills the heap of the running JVM, for the out-of-memory suites that run in a {@link ForkedJvm}
 * in the manner of OpenJDK's {@code test/jdk/java/util/concurrent/locks/Lock/OOMEInAQS.java}.
 */
public final class ExhaustedHeap {

    private ExhaustedHeap() {
    }

    /**
     * OOMEInAQS's fillHeap: a chain of arrays, halving their size at each OOME down to nothing.
     * Guarantees that on return not even a one-element array could be allocated while the result
     * is reachable, and that the whole chain is freed once the caller drops the result.
     *
     * @return the head of the chain; hold it to keep the heap full, drop it to free the heap
     */
    public static Object fill() {
        Object[] first = null;
        Object[] last = null;
        for (int size = 1 << 20; size > 0; ) {
            try {
                Object[] array = new Object[size];
                if (first == null) {
                    first = array;
                } else {
                    last[0] = array;
                }
                last = array;
            } catch (OutOfMemoryError oome) {
                size >>>= 1;
            }
        }
        return first;
    }
}
