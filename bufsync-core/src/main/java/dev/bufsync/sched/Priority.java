package dev.bufsync.sched;

/**
 * The priority of an {@link Entity}'s jobs on its engine, highest first (the kernel's
 * {@code enum drm_sched_priority}). A ready job of a higher priority always starts before a ready
 * job of a lower one; within a priority the job that has waited longest starts first.
 */
public enum Priority {
    /** Work the system itself depends on, such as memory management. */
    KERNEL,
    /** Latency-sensitive work, such as the display. */
    HIGH,
    /** Everything else. */
    NORMAL,
    /** Background work. */
    LOW
}
