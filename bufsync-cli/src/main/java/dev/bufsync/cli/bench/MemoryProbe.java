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
 * between runs of one VM, so one measurement is the result and its spread is nil. With a
 * {@code sample} parameter (quick mode) the reservations' footprint is extrapolated from two
 * smaller counts, exactly (see {@link #extrapolated}).
 */
final class MemoryProbe implements BenchDef.Probe {
    static final String MUTEX = "mutex";
    static final String RESERVATIONS = "reservations";

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
        int sample = s.params().containsKey("sample") ? Integer.parseInt(s.params().get("sample").get(0)) : 0;
        for (String count : s.params().get("reservations")) {
            int n = Integer.parseInt(count);
            Map<String, String> p = new LinkedHashMap<>();
            p.put("object", RESERVATIONS);
            p.put("reservations", count);
            if (sample > 0 && sample < n) {
                progress.accept(Numbers.count(Integer.toString(sample)) + " reservations, for " + count);
                results.add(new BenchResult(def.name(), p, "reservation", extrapolated(sample, n) / 1e6, Double.NaN,
                        "MB", false, Map.of(SAMPLED, (double) sample)));
            } else {
                progress.accept(count + " reservations");
                results.add(result(def, p, "reservation", Footprint.reservationsBytes(n) / 1e6, "MB"));
            }
        }
        return results;
    }

    /** The counter that says a footprint was extrapolated, from how many reservations. */
    static final String SAMPLED = "sampledReservations";

    /**
     * The footprint of {@code n} reservations from measurements of {@code sample} and half as many:
     * the footprint is affine in the count (every reservation without fences holds the same
     * objects, the array grows by one reference each), so two points give it exactly, for a tenth
     * of the time JOL needs to walk a million of them.
     */
    static double extrapolated(int sample, int n) {
        long half = Footprint.reservationsBytes(sample / 2);
        long full = Footprint.reservationsBytes(sample);
        double perReservation = (double) (full - half) / (sample - sample / 2);
        return full + perReservation * (n - sample);
    }

    private static BenchResult result(BenchDef def, Map<String, String> params, String strategy,
                                      double value, String unit) {
        return new BenchResult(def.name(), params, strategy, value, Double.NaN, unit, false, Map.of());
    }
}
