package dev.bufsync.bench;

import dev.bufsync.resv.Reservation;
import dev.bufsync.ww.WwClass;
import dev.bufsync.ww.WwMutex;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jol.info.ClassLayout;
import org.openjdk.jol.info.GraphLayout;
import org.openjdk.jol.vm.VM;

/**
 * What the library's objects cost in heap, measured with JOL on the running VM (its object header
 * size, compressed references and alignment): the {@code memory} benchmark of {@code bufsync
 * bench}.
 *
 * <p>Hypothesis: a {@link WwMutex} fits the kernel's budget of a few words (≤ 32 bytes, the size
 * of a {@code ReentrantLock} with its {@code Sync}), and a reservation without fences adds only
 * its mutex and three fields, so 10⁶ of them stay under 150 MB. The reservations' footprint is
 * everything reachable from an array of them except what they share (their {@link WwClass}), the
 * array included.
 */
public final class Footprint {
    static {
        quietJol();
    }

    private Footprint() {
    }

    /**
     * Initialises JOL without its notice on standard output: without an agent it prints that it
     * has no instrumentation (and, unless told not to, tries to attach one to this VM), then
     * measures through {@code Unsafe}, which on HotSpot gives the same sizes. Standard output is
     * swapped only while JOL initialises, during class initialisation of this class.
     */
    private static void quietJol() {
        setIfAbsent("jol.skipDynamicAttach", "true");
        // Unsafe.objectFieldOffset refuses record fields (WwMutex's hooked class is a record);
        // JOL's "magic" mode finds the offsets without it.
        setIfAbsent("jol.magicFieldOffset", "true");
        PrintStream out = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            VM.current();
        } finally {
            System.setOut(out);
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /**
     * The size of one {@link WwMutex} instance, without the class it shares with its siblings.
     *
     * @return bytes
     */
    public static long wwMutexBytes() {
        return ClassLayout.parseClass(WwMutex.class).instanceSize();
    }

    /**
     * The footprint of one non-fair {@link ReentrantLock}: the lock and its {@code Sync}.
     *
     * @return bytes
     */
    public static long reentrantLockBytes() {
        return GraphLayout.parseInstance(new ReentrantLock()).totalSize();
    }

    /**
     * The heap that {@code count} reservations without fences occupy: everything reachable from an
     * array holding them, less what is reachable from their shared class.
     *
     * @param count how many reservations
     * @return bytes
     */
    public static long reservationsBytes(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("reservation count must be ≥ 1, not " + count);
        }
        Reservation[] all = new Reservation[count];
        for (int i = 0; i < count; i++) {
            all[i] = new Reservation();
        }
        GraphLayout shared = GraphLayout.parseInstance(Reservation.DEFAULT_CLASS);
        return GraphLayout.parseInstance((Object) all).subtract(shared).totalSize();
    }

    /**
     * Prints the three figures, for a run without {@code bufsync bench}.
     *
     * @param args optionally the reservation count (default 10⁶)
     */
    public static void main(String[] args) {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        System.out.println("WwMutex: " + wwMutexBytes() + " bytes");
        System.out.println("ReentrantLock: " + reentrantLockBytes() + " bytes");
        System.out.println(count + " reservations: " + reservationsBytes(count) + " bytes");
    }
}
