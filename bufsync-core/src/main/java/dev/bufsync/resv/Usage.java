package dev.bufsync.resv;

/**
 * How a fence attached to a {@link Reservation} uses the object, ordered from the strongest to
 * the weakest claim: {@code KERNEL < WRITE < READ < BOOKKEEP}. A query for usage {@code U}
 * returns every fence whose usage is {@code U} or stronger, so asking for {@link #READ} also
 * returns {@link #WRITE} and {@link #KERNEL} fences (the kernel's {@code enum dma_resv_usage}).
 *
 * <p>Which usage to wait for before an access is given by {@link #beforeWrite()} (every reader
 * and writer) and {@link #beforeRead()} (writers only).
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
     * The usage to wait for before writing: every reader and writer, {@link #READ} (which
     * includes the stronger usages). The kernel's {@code dma_resv_usage_rw(true)}.
     *
     * @return {@link #READ}
     */
    public static Usage beforeWrite() {
        return READ;
    }

    /**
     * The usage to wait for before reading: writers only, {@link #WRITE} (and {@link #KERNEL}).
     * The kernel's {@code dma_resv_usage_rw(false)}.
     *
     * @return {@link #WRITE}
     */
    public static Usage beforeRead() {
        return WRITE;
    }

    /**
     * The usage to wait for before an access (the kernel's {@code dma_resv_usage_rw}).
     *
     * @param write whether the access writes
     * @return {@link #beforeWrite()} for a write, {@link #beforeRead()} for a read
     * @deprecated a bare {@code boolean} reads badly at the call site; use {@link #beforeWrite()}
     *     or {@link #beforeRead()}
     */
    @Deprecated(since = "0.1.0")
    public static Usage rw(boolean write) {
        return write ? beforeWrite() : beforeRead();
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
