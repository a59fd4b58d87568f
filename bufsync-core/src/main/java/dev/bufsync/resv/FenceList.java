package dev.bufsync.resv;

import dev.bufsync.fence.Fence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable list of fences with their usages: the snapshot a {@link Reservation} publishes.
 * Writers build a new list for every change (copy on write); readers keep the one they read.
 */
final class FenceList {
    static final FenceList EMPTY = new FenceList(new Fence[0], new byte[0]);

    private final Fence[] fences;
    private final byte[] usages;   // Usage ordinals, parallel to fences

    private FenceList(Fence[] fences, byte[] usages) {
        this.fences = fences;
        this.usages = usages;
    }

    int size() {
        return fences.length;
    }

    Fence fence(int i) {
        return fences[i];
    }

    Usage usage(int i) {
        return USAGES[usages[i]];
    }

    /** The unsignalled fences whose usage is {@code query} or stronger, in insertion order. */
    List<Fence> select(Usage query) {
        List<Fence> out = new ArrayList<>(fences.length);
        for (int i = 0; i < fences.length; i++) {
            if (USAGES[usages[i]].includedIn(query) && !fences[i].isSignaled()) {
                out.add(fences[i]);
            }
        }
        return out;
    }

    /**
     * This list plus {@code fence} with {@code usage}, the kernel's {@code dma_resv_add_fence}
     * rules: an entry is replaced when it has signalled, or when it belongs to the same context,
     * is not later than {@code fence} and its usage is equal or weaker (promotion, never
     * demotion); signalled entries are dropped.
     */
    FenceList plus(Fence fence, Usage usage) {
        Fence[] f = new Fence[fences.length + 1];
        byte[] u = new byte[fences.length + 1];
        int n = 0;
        boolean placed = false;
        for (int i = 0; i < fences.length; i++) {
            Fence old = fences[i];
            if (old.isSignaled()) {
                continue;
            }
            if (!placed && old.context() == fence.context() && usages[i] >= usage.ordinal()
                    && !old.isLater(fence)) {
                f[n] = fence;
                u[n++] = (byte) usage.ordinal();
                placed = true;
                continue;
            }
            f[n] = old;
            u[n++] = usages[i];
        }
        if (!placed && !fence.isSignaled()) {
            f[n] = fence;
            u[n++] = (byte) usage.ordinal();
        }
        return of(f, u, n);
    }

    /** This list with every fence of {@code context} replaced by one entry {@code replacement}. */
    FenceList replacing(long context, Fence replacement, Usage usage) {
        Fence[] f = new Fence[fences.length];
        byte[] u = new byte[fences.length];
        int n = 0;
        boolean placed = false;
        for (int i = 0; i < fences.length; i++) {
            if (fences[i].context() != context) {
                f[n] = fences[i];
                u[n++] = usages[i];
            } else if (!placed) {
                f[n] = replacement;
                u[n++] = (byte) usage.ordinal();
                placed = true;
            }
        }
        return of(f, u, n);
    }

    /** This list without its signalled entries. */
    FenceList pruned() {
        int live = 0;
        for (Fence f : fences) {
            if (!f.isSignaled()) {
                live++;
            }
        }
        if (live == fences.length) {
            return this;
        }
        Fence[] f = new Fence[live];
        byte[] u = new byte[live];
        int n = 0;
        for (int i = 0; i < fences.length; i++) {
            if (!fences[i].isSignaled()) {
                f[n] = fences[i];
                u[n++] = usages[i];
            }
        }
        return of(f, u, n);
    }

    private static FenceList of(Fence[] f, byte[] u, int n) {
        if (n == 0) {
            return EMPTY;
        }
        return n == f.length ? new FenceList(f, u) : new FenceList(Arrays.copyOf(f, n), Arrays.copyOf(u, n));
    }

    private static final Usage[] USAGES = Usage.values();
}
