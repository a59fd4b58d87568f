package dev.bufsync.cli.torture;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * What every thread of a stuck scenario is doing: its state, the lock it waits for and who holds
 * it, the locks it holds (ownable synchronizers such as {@code WwMutex}, and monitors), and the top
 * of its stack. Built from {@link ThreadMXBean}, so it sees what a thread dump sees.
 */
final class HangReport {
    private static final int FRAMES = 12;

    private HangReport() {
    }

    /**
     * Describes the live threads of a group.
     *
     * @param group the scenario's thread group
     * @return one block of lines per thread
     */
    static String of(ThreadGroup group) {
        Thread[] threads = new Thread[group.activeCount() + 16];
        int n = group.enumerate(threads, true);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        StringBuilder sb = new StringBuilder();
        for (Thread t : Arrays.copyOf(threads, n)) {
            ThreadInfo info = mx.getThreadInfo(new long[] {t.threadId()}, true, true)[0];
            if (info == null) {
                continue;
            }
            sb.append("  thread ").append(t.getName()).append(" (").append(info.getThreadState()).append(")\n");
            Object blocker = LockSupport.getBlocker(t);
            if (info.getLockName() != null) {
                sb.append("    waits for ").append(blocker != null ? blocker : info.getLockName());
                if (info.getLockOwnerName() != null) {
                    sb.append(" held by ").append(info.getLockOwnerName());
                }
                sb.append('\n');
            }
            List<String> held = new ArrayList<>();
            for (LockInfo l : info.getLockedSynchronizers()) {
                held.add(l.toString());
            }
            for (LockInfo l : info.getLockedMonitors()) {
                held.add(l.toString());
            }
            if (!held.isEmpty()) {
                sb.append("    holds ").append(held).append('\n');
            }
            StackTraceElement[] stack = info.getStackTrace();
            for (int i = 0; i < Math.min(FRAMES, stack.length); i++) {
                sb.append("      at ").append(stack[i]).append('\n');
            }
        }
        return sb.toString();
    }
}
