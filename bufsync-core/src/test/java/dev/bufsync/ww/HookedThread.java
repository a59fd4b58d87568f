package dev.bufsync.ww;

/**
 * A daemon platform thread whose {@link #isInterrupted()}, called by the thread itself, first runs
 * a one-shot hook. A lock's interruptible wait loop asks exactly that while it waits, so a test
 * can act at that point (let another thread release a lock) and make the waiter fail there, as
 * an out-of-memory error could, deterministically.
 */
final class HookedThread extends Thread {
    private volatile Runnable hook;

    HookedThread(Runnable task, String name) {
        super(task, name);
        setDaemon(true);
    }

    /** An actor on a hooked thread. */
    static Actor actor(String name) {
        return new Actor(r -> new HookedThread(r, name));
    }

    /** Arms {@code hook} for the next {@link #isInterrupted()} of the current thread, which must be an actor's hooked thread. */
    static void arm(Runnable hook) {
        ((HookedThread) Thread.currentThread()).hook = hook;
    }

    @Override
    public boolean isInterrupted() {
        Runnable h = hook;
        if (h != null && Thread.currentThread() == this) {
            hook = null;
            h.run();
        }
        return super.isInterrupted();
    }
}
