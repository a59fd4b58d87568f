package dev.bufsync.cli.bench;

import dev.bufsync.bench.Footprint;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The {@code memory} benchmark: object sizes and footprints measured with JOL ({@link Footprint})
 * in this VM: one {@code WwMutex} against one {@code ReentrantLock} (bytes), and the heap reachable
 * from {@code reservations} reservations without fences (MB, 10⁶ bytes). Sizes do not vary
 * between runs of one VM, so one measurement is the result and its spread is nil.
 */
final class MemoryProbe implements BenchDef.Probe {
    static final String MUTEX = "mutex";
    static final String RESERVATIONS = "reservations";

    static {
        // JOL would try to attach an agent to this VM and print that it cannot; its Unsafe-based
        // sizes are exact on HotSpot without it.
        if (System.getProperty("jol.skipDynamicAttach") == null) {
            System.setProperty("jol.skipDynamicAttach", "true");
        }
    }

    @Override
    public List<String> strategies() {
        return List.of("ww-mutex", "reentrant-lock", "reservation");
    }

    @Override
    public List<BenchResult> run(BenchDef def, BenchDef.Settings s, Consumer<String> progress) {
        progress.accept("object sizes");
        Map<String, String> mutex = Map.of("object", MUTEX);
        BenchResult ww = result(def, mutex, "ww-mutex", Footprint.wwMutexBytes(), "bytes");
        BenchResult lock = result(def, mutex, "reentrant-lock", Footprint.reentrantLockBytes(), "bytes");
        List<BenchResult> results = new java.util.ArrayList<>(List.of(ww, lock));
        for (String count : s.params().get("reservations")) {
            progress.accept(count + " reservations");
            Map<String, String> p = new LinkedHashMap<>();
            p.put("object", RESERVATIONS);
            p.put("reservations", count);
            results.add(result(def, p, "reservation", Footprint.reservationsBytes(Integer.parseInt(count)) / 1e6, "MB"));
        }
        return results;
    }

    private static BenchResult result(BenchDef def, Map<String, String> params, String strategy,
                                      double value, String unit) {
        return new BenchResult(def.name(), params, strategy, value, Double.NaN, unit, false, Map.of());
    }
}
