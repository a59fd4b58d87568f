package dev.bufsync.cli.demo;

/** How the demo's drivers lock the buffers of a submission. */
enum Locking {
    /** Every submission locks its buffers with bufsync's exec and runs through the scheduler. */
    WW("ww"),
    /** One global lock around every submission: correct, but submissions serialise. */
    GLOBAL("global"),
    /** A plain lock per buffer, taken in the order the submission lists them: deadlocks. */
    NAIVE("naive");

    final String label;

    Locking(String label) {
        this.label = label;
    }

    @Override
    public String toString() {
        return label;
    }

    static Locking parse(String value) {
        for (Locking l : values()) {
            if (l.label.equalsIgnoreCase(value)) {
                return l;
            }
        }
        throw new IllegalArgumentException("'" + value + "' is not a locking mode; use ww, global or naive");
    }
}
