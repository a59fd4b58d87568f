package dev.bufsync.ww;

/**
 * The outcome of a lock attempt with an {@link AcquireContext} that did not have to back off.
 *
 * <p>A back-off (the kernel's {@code -EDEADLK}) is not a result but a {@link BackoffException},
 * so that it cannot be ignored by accident. Which constants a method can return is listed in its
 * {@code @return} clause:
 *
 * <ul>
 *   <li>{@link WwMutex#lock(AcquireContext)} and {@link WwMutex#lockInterruptibly(AcquireContext)}:
 *       {@link #ACQUIRED} or {@link #ALREADY_HELD};
 *   <li>{@link WwMutex#tryLock(AcquireContext)}: {@link #ACQUIRED}, {@link #ALREADY_HELD} or
 *       {@link #BUSY};
 *   <li>{@link WwMutex#tryLock(AcquireContext, java.time.Duration)}: {@link #ACQUIRED},
 *       {@link #ALREADY_HELD} or {@link #TIMED_OUT};
 *   <li>{@link WwSharedMutex#lockShared(AcquireContext)}: {@link #ACQUIRED} or
 *       {@link #ALREADY_HELD} (held in either mode); {@link WwSharedMutex#lock(AcquireContext)}:
 *       {@link #ACQUIRED}, {@link #ALREADY_HELD} (held exclusively) or {@link #UPGRADED} (held
 *       shared before); their {@code tryLock} forms add {@link #BUSY}.
 * </ul>
 */
public enum LockResult {
    /** The context acquired the mutex with this call and now holds it. */
    ACQUIRED,
    /**
     * The context already held the mutex before this call (the kernel's {@code -EALREADY}); the
     * call changed nothing and the mutex must be unlocked only once.
     */
    ALREADY_HELD,
    /** {@code tryLock} found the mutex held by someone else and did not wait; nothing changed. */
    BUSY,
    /** A timed lock gave up when its time ran out; nothing is held and nothing changed. */
    TIMED_OUT,
    /**
     * The context held the {@link WwSharedMutex} shared before this exclusive lock call and holds
     * it exclusively now: still one hold, to be unlocked once.
     */
    UPGRADED;

    /**
     * Tells whether the context holds the mutex after the call.
     *
     * @return {@code true} for {@link #ACQUIRED}, {@link #ALREADY_HELD} and {@link #UPGRADED}
     */
    public boolean isHeld() {
        return this == ACQUIRED || this == ALREADY_HELD || this == UPGRADED;
    }
}
