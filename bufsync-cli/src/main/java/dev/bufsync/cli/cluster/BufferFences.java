package dev.bufsync.cli.cluster;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A demo buffer's value in ZooKeeper, as a reservation object keeps it: the fence of its last
 * writer and the fences of the jobs that read it since. A reader waits for the writer; a writer
 * waits for the writer and every reader, then replaces both. One fence path per line, the writer's
 * first (an empty line when nobody wrote yet).
 */
record BufferFences(String writer, List<String> readers) {

    static BufferFences parse(byte[] value) {
        String s = new String(value, StandardCharsets.UTF_8);
        if (s.isEmpty()) return new BufferFences("", List.of());
        List<String> lines = List.of(s.split("\n", -1));
        return new BufferFences(lines.get(0), lines.subList(1, lines.size()));
    }

    static BufferFences ofWriter(String fence) {
        return new BufferFences(fence, List.of());
    }

    BufferFences withReader(String fence) {
        List<String> r = new ArrayList<>(readers);
        r.add(fence);
        return new BufferFences(writer, r);
    }

    /** The fences a reader must wait for. */
    List<String> readDependencies() {
        return writer.isEmpty() ? List.of() : List.of(writer);
    }

    /** The fences a writer must wait for. */
    List<String> writeDependencies() {
        List<String> d = new ArrayList<>(readDependencies());
        d.addAll(readers);
        return d;
    }

    byte[] bytes() {
        StringBuilder s = new StringBuilder(writer);
        for (String r : readers) s.append('\n').append(r);
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }
}
