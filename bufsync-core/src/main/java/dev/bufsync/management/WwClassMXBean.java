package dev.bufsync.management;

/**
 * The management interface of one {@link dev.bufsync.ww.WwClass}: its configuration and the
 * counters of {@link dev.bufsync.ww.WwClass#stats()}, read live on every attribute access.
 * Registered by {@link MBeans#register(dev.bufsync.ww.WwClass)} as
 * {@code dev.bufsync:type=WwClass,name=<class name>}.
 */
public interface WwClassMXBean {
    /**
     * The class's name.
     *
     * @return the name given at creation
     */
    String getName();

    /**
     * The conflict-resolution algorithm.
     *
     * @return {@code WOUND_WAIT} or {@code WAIT_DIE}
     */
    String getAlgorithm();

    /**
     * Whether new contexts start with back-off injection on.
     *
     * @return {@code true} if injection is on
     */
    boolean isInjectBackoff();

    /**
     * Contexts begun.
     *
     * @return the count
     */
    long getContexts();

    /**
     * Mutexes acquired, with or without a context (context acquisitions as of the last close).
     *
     * @return the count
     */
    long getAcquisitions();

    /**
     * Acquisitions that had to queue behind a holder.
     *
     * @return the count
     */
    long getContended();

    /**
     * Back-offs reported to transactions, injected ones included.
     *
     * @return the count
     */
    long getBackoffs();

    /**
     * Back-offs that were injected.
     *
     * @return the count
     */
    long getInjected();

    /**
     * Wounds delivered to younger holders (wound-wait only).
     *
     * @return the count
     */
    long getWounds();

    /**
     * Total time spent queued for a mutex of the class.
     *
     * @return nanoseconds
     */
    long getWaitNanos();
}
