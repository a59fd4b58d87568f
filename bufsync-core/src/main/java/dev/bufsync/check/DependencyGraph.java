package dev.bufsync.check;

import dev.bufsync.check.DependencyCycle.Edge;
import dev.bufsync.check.DependencyCycle.Kind;
import dev.bufsync.check.DependencyCycle.Vertex;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lockdep's dependency graph over lock classes and fence contexts: a vertex per class or context
 * ever seen, an edge per dependency ever seen, kept with the stack of its first sighting. Adding
 * an edge that closes a cycle returns the cycle.
 */
final class DependencyGraph {
    /*
     * Overview.
     *
     * Vertices live in a ConcurrentHashMap keyed by the WwClass, the wrapped lock's LockName or
     * the fence context id (a Long), so that looking one up never blocks. Each vertex keeps its
     * outgoing edges in a ConcurrentHashMap as well: the common case, an edge already known, is
     * one lock-free lookup. A new edge is added under `lock` after a breadth-first search for a
     * path back from its target to its source; the search and the insertion under one lock make
     * "first edge that closes a cycle" well defined, and the graph stays acyclic except for edges
     * added knowingly under WARN. Invariant: every edge in `out` maps to an Edge whose from/to are
     * the vertices of the two nodes. No foreign code runs under `lock` (the caller reports after
     * it returns); the stack is captured before the lock is taken.
     */

    /** A vertex with its outgoing edges. */
    static final class Node {
        final Object key;
        final Vertex vertex;
        final Map<Node, Edge> out = new ConcurrentHashMap<>();   // put under the graph's lock, read anywhere

        Node(Object key, Vertex vertex) {
            this.key = key;
            this.vertex = vertex;
        }
    }

    /** The key of a lock wrapped by {@link Checker#wrap}: its name. */
    record LockName(String name) { }

    private final Map<Object, Node> nodes = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();

    /** The vertex of {@code key}, made with {@code kind} and {@code name} if new. */
    Node node(Object key, Kind kind, String name) {
        Node n = nodes.get(key);
        return n != null ? n : nodes.computeIfAbsent(key, k -> new Node(k, new Vertex(kind, name)));
    }

    /** Tells whether the edge is known; lock-free. */
    static boolean known(Node from, Node to) {
        return from == to || from.out.containsKey(to);
    }

    /**
     * Adds the edge {@code from → to} unless it is known. If it closes a cycle, returns the cycle
     * (the new edge first) and adds the edge only if {@code keepCycles}.
     *
     * @param seenAs the lock or fence of the call, for diagnostics
     * @param keepCycles whether a closing edge is kept (WARN: reported once) or not (THROW)
     * @return the cycle, or null
     */
    DependencyCycle add(Node from, Node to, String seenAs, boolean keepCycles) {
        if (known(from, to)) {
            return null;
        }
        Edge e = new Edge(from.vertex, to.vertex, seenAs, Thread.currentThread().getName(), callerStack());
        DependencyCycle cycle = null;
        lock.lock();
        try {
            if (from.out.containsKey(to)) {
                return null;
            }
            List<Edge> back = path(to, from);
            if (back != null) {
                List<Edge> edges = new ArrayList<>(back.size() + 1);
                edges.add(e);
                edges.addAll(back);
                cycle = new DependencyCycle(edges);
                if (!keepCycles) {
                    return cycle;
                }
            }
            from.out.put(to, e);
        } finally {
            lock.unlock();
        }
        return cycle;
    }

    /** Forgets every vertex and edge. */
    void clear() {
        lock.lock();
        try {
            nodes.clear();
        } finally {
            lock.unlock();
        }
    }

    /** A shortest path of known edges from {@code start} to {@code goal}, or null; under the lock. */
    private static List<Edge> path(Node start, Node goal) {
        Map<Node, Node> parent = new HashMap<>();
        ArrayDeque<Node> queue = new ArrayDeque<>();
        parent.put(start, start);
        queue.add(start);
        while (!queue.isEmpty()) {
            Node n = queue.poll();
            if (n == goal) {
                List<Edge> edges = new ArrayList<>();
                for (Node c = goal; c != start; c = parent.get(c)) {
                    edges.add(parent.get(c).out.get(c));
                }
                Collections.reverse(edges);
                return edges;
            }
            for (Node next : n.out.keySet()) {
                if (parent.putIfAbsent(next, n) == null) {
                    queue.add(next);
                }
            }
        }
        return null;
    }

    /** The current stack without the checker's own frames. */
    private static List<StackTraceElement> callerStack() {
        StackTraceElement[] s = new Throwable().getStackTrace();
        int i = 0;
        while (i < s.length && s[i].getClassName().startsWith("dev.bufsync.check.")) {
            i++;
        }
        return Arrays.asList(s).subList(i, s.length);
    }
}
