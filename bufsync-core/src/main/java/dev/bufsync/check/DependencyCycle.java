package dev.bufsync.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A cycle in the checker's dependency graph: lock classes and fence contexts, each depending on
 * the next, the last on the first. Immutable. The first edge is the one that closed the cycle,
 * seen by the current call; each other edge carries the stack of the call where it was first seen.
 *
 * <p>An edge {@code L → F} reads "a thread held a lock of class L while it waited for a fence of
 * context F"; {@code F → L} "a lock of class L was taken in a signalling section of F";
 * {@code F → F'} "a signalling section of F waited for a fence of F'"; {@code L → L'} "a lock of
 * class L' was taken while one of class L was held". A cycle means that some timing deadlocks.
 */
public final class DependencyCycle {
    private final List<Edge> edges;

    DependencyCycle(List<Edge> edges) {
        this.edges = List.copyOf(edges);
    }

    /** What a vertex of the graph is. */
    public enum Kind {
        /** A {@link dev.bufsync.ww.WwClass}, or the name of a lock wrapped by {@link Checker#wrap}. */
        LOCK_CLASS,
        /** A fence context ({@link dev.bufsync.fence.Fence#context()}). */
        FENCE_CONTEXT
    }

    /**
     * A vertex: a lock class or a fence context.
     *
     * @param kind lock class or fence context
     * @param name the class's name, or the context's timeline name and id ({@code gpu#3})
     */
    public record Vertex(Kind kind, String name) {
        /** Checks the components. */
        public Vertex {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(name, "name");
        }

        @Override
        public String toString() {
            return (kind == Kind.LOCK_CLASS ? "lock " : "fence context ") + name;
        }
    }

    /**
     * An edge, as first seen.
     *
     * @param from the vertex that depends
     * @param to the vertex it depends on
     * @param seenAs the lock or fence of the call that recorded it, for diagnostics
     * @param thread the name of the thread that recorded it
     * @param stack the stack of that call, innermost frame first, the checker's own frames removed
     */
    public record Edge(Vertex from, Vertex to, String seenAs, String thread, List<StackTraceElement> stack) {
        /** Checks and copies the components. */
        public Edge {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            stack = List.copyOf(stack);
        }

        /**
         * The innermost frame outside the library's lock and wait paths: the caller's line that
         * took the lock or waited, or the first frame if every frame is the library's.
         *
         * @return the frame, or null for an empty stack
         */
        public StackTraceElement topFrame() {
            for (StackTraceElement e : stack) {
                if (!isLibraryFrame(e.getClassName())) {
                    return e;
                }
            }
            return stack.isEmpty() ? null : stack.get(0);
        }

        /** The kind of dependency, in words: {@code "waited for"}, {@code "took"}, ... */
        String verb() {
            if (from.kind() == Kind.LOCK_CLASS) {
                return to.kind() == Kind.LOCK_CLASS ? "held while taking" : "held while waiting for";
            }
            return to.kind() == Kind.LOCK_CLASS ? "signalling section took" : "signalling section waited for";
        }

        @Override
        public String toString() {
            return from + " " + verb() + " " + to + " (" + seenAs + ", thread " + thread + ", at "
                    + topFrame() + ")";
        }
    }

    /**
     * The edges, the closing one first; each edge's {@code to} is the next one's {@code from}.
     *
     * @return the edges
     */
    public List<Edge> edges() {
        return edges;
    }

    /**
     * The fence contexts on the cycle, in cycle order.
     *
     * @return their names
     */
    public List<String> contexts() {
        return names(Kind.FENCE_CONTEXT);
    }

    /**
     * The lock classes on the cycle, in cycle order.
     *
     * @return their names
     */
    public List<String> locks() {
        return names(Kind.LOCK_CLASS);
    }

    private List<String> names(Kind kind) {
        List<String> out = new ArrayList<>();
        for (Edge e : edges) {
            if (e.from().kind() == kind) {
                out.add(e.from().name());
            }
        }
        return out;
    }

    /**
     * Describes the cycle on several lines: the vertices, then each edge with its top frame.
     *
     * @return a description, for logs and exception messages
     */
    public String describe() {
        StringBuilder sb = new StringBuilder("potential deadlock: dependency cycle ");
        for (Edge e : edges) {
            sb.append(e.from()).append(" -> ");
        }
        sb.append(edges.get(0).from());
        for (int i = 0; i < edges.size(); i++) {
            sb.append(System.lineSeparator()).append(i == 0 ? "  closing edge: " : "  first seen:   ")
                    .append(edges.get(i));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return describe();
    }

    /** The library's lock and wait paths, skipped by {@link Edge#topFrame()}. */
    private static final java.util.Set<String> LIBRARY = java.util.Set.of(
            "dev.bufsync.check.Checker", "dev.bufsync.check.CheckedLock", "dev.bufsync.check.DependencyGraph",
            "dev.bufsync.ww.WwMutex", "dev.bufsync.ww.AcquireContext", "dev.bufsync.fence.Fence",
            "dev.bufsync.fence.Fences", "dev.bufsync.resv.Reservation", "dev.bufsync.exec.Exec");

    static boolean isLibraryFrame(String className) {
        int nested = className.indexOf('$');
        return LIBRARY.contains(nested < 0 ? className : className.substring(0, nested))
                || className.startsWith("java.util.concurrent.");
    }
}
