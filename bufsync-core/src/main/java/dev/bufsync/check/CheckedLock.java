package dev.bufsync.check;

import dev.bufsync.check.DependencyGraph.Node;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;

/** A {@link Lock} annotated for the checker under a class name; see {@link Checker#wrap}. */
final class CheckedLock implements Lock {
    private final Lock delegate;
    private final String name;

    CheckedLock(Lock delegate, String name) {
        this.delegate = delegate;
        this.name = name;
    }

    @Override
    public void lock() {
        Node cls = acquiring();
        delegate.lock();
        acquired(cls);
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        Node cls = acquiring();
        delegate.lockInterruptibly();
        acquired(cls);
    }

    @Override
    public boolean tryLock() {
        boolean locked = delegate.tryLock();
        if (locked) {
            acquired(Checker.on() ? Checker.lockNode(name) : null);
        }
        return locked;
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        Node cls = acquiring();
        boolean locked = delegate.tryLock(time, unit);
        if (locked) {
            acquired(cls);
        }
        return locked;
    }

    @Override
    public void unlock() {
        delegate.unlock();
        if (Checker.on()) {
            Checker.state().pop(this);
        }
    }

    @Override
    public Condition newCondition() {
        return delegate.newCondition();
    }

    /** Adds the edges to this lock's class before a blocking acquisition; null while off. */
    private Node acquiring() {
        if (!Checker.on()) {
            return null;
        }
        Node cls = Checker.lockNode(name);
        Checker.depend(cls, this);
        return cls;
    }

    private void acquired(Node cls) {
        if (cls != null) {
            Checker.state().push(cls, this);
        }
    }

    @Override
    public String toString() {
        return "CheckedLock[" + name + ": " + delegate + "]";
    }
}
