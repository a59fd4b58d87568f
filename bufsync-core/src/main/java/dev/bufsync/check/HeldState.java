package dev.bufsync.check;

import dev.bufsync.check.DependencyGraph.Node;
import java.util.Arrays;

/**
 * What one thread holds for the checker: the locks it acquired (with their classes' vertices),
 * and the signalling sections it has open. Touched by its own thread only, except for the
 * {@code closed} flag of a section closed by another thread, which the owner prunes.
 */
final class HeldState {
    private Node[] heldClasses = new Node[8];
    private Object[] heldLocks = new Object[8];
    private int held;                                    // plain: owner thread only
    private SignallingSection[] sections = new SignallingSection[4];
    private int open;                                    // plain: owner thread only

    int heldCount() {
        return held;
    }

    Node heldClass(int i) {
        return heldClasses[i];
    }

    void push(Node cls, Object lock) {
        if (held == heldLocks.length) {
            heldClasses = Arrays.copyOf(heldClasses, held * 2);
            heldLocks = Arrays.copyOf(heldLocks, held * 2);
        }
        heldClasses[held] = cls;
        heldLocks[held++] = lock;
    }

    /** Forgets the newest record of {@code lock}; a lock acquired while the checker was off has none. */
    void pop(Object lock) {
        for (int i = held - 1; i >= 0; i--) {
            if (heldLocks[i] == lock) {
                System.arraycopy(heldClasses, i + 1, heldClasses, i, held - 1 - i);
                System.arraycopy(heldLocks, i + 1, heldLocks, i, held - 1 - i);
                held--;
                heldClasses[held] = null;
                heldLocks[held] = null;
                return;
            }
        }
    }

    void open(SignallingSection s) {
        if (open == sections.length) {
            sections = Arrays.copyOf(sections, open * 2);
        }
        sections[open++] = s;
    }

    void close(SignallingSection s) {
        for (int i = open - 1; i >= 0; i--) {
            if (sections[i] == s) {
                System.arraycopy(sections, i + 1, sections, i, open - 1 - i);
                sections[--open] = null;
                return;
            }
        }
    }

    /** The number of open sections, after dropping those another thread closed. */
    int openSections() {
        int n = 0;
        for (int i = 0; i < open; i++) {
            if (!sections[i].isClosed()) {
                sections[n++] = sections[i];
            }
        }
        for (int i = n; i < open; i++) {
            sections[i] = null;
        }
        open = n;
        return n;
    }

    Node section(int i) {
        return sections[i].node;
    }
}
