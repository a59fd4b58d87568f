package dev.bufsync.resv;

/**
 * How a fence attached to a {@link Reservation} uses the object, ordered from the strongest to
 * the weakest claim: {@code KERNEL < WRITE < READ < BOOKKEEP}. A query for usage {@code U}
 * returns every fence whose usage is {@code U} or stronger, so asking for {@link #READ} also
 * returns {@link #WRITE} and {@link #KERNEL} fences (the kernel's {@code enum dma_resv_usage}).
 *
 * <p>Which usage to wait for before an access is given by {@link #rw(boolean)}: a writer waits
 * for every reader and writer, a reader for writers only.
 */
public enum Usage {
    /**
     * Memory management by the owner of the storage (moves, clears). Everybody waits for these.
     */
    KERNEL,
    /** An implicitly synchronized write: readers and writers that come later wait for it. */
    WRITE,
    /** An implicitly synchronized read: writers that come later wait for it. */
    READ,
    /**
     * Bookkeeping only: nobody waits for it implicitly (explicitly synchronized work, preemption
     * fences). It can be promoted later by adding the same fence again with a stronger usage.
     */
    BOOKKEEP;

    /**
     * The usage to wait for before an access (the kernel's {@code dma_resv_usage_rw}): a write must
     * wait for every reader and writer ({@link #READ}, which includes the stronger usages); a read
     * only for writers ({@link #WRITE}).
     *
     * @param write whether the access writes
     * @return {@link #READ} for a write, {@link #WRITE} for a read
     */
    public static Usage rw(boolean write) {
        return write ? READ : WRITE;
    }

    /**
     * Tells whether a fence with this usage is returned by a query for {@code query}.
     *
     * @param query the usage asked for
     * @return {@code true} if this usage is {@code query} or stronger
     */
    public boolean includedIn(Usage query) {
        return ordinal() <= query.ordinal();
    }
}
