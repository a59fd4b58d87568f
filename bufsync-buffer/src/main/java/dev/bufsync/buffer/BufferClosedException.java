package dev.bufsync.buffer;

/**
 * Thrown when an operation is asked of a {@link SharedBuffer} that has been closed, or is being
 * closed: attaching, mapping, beginning a CPU access, exporting or importing a fence, registering
 * an idle callback, getting or locking it in a {@link BufferSync}. Nothing changed.
 *
 * <p>Accesses through a view obtained before the buffer's memory was freed fail with the FFM
 * API's own {@link IllegalStateException} ("Already closed"); both are
 * {@code IllegalStateException}s.
 */
public final class BufferClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** The name of the closed buffer. */
    private final String buffer;

    BufferClosedException(String buffer, String operation, boolean freed) {
        super(operation + " on buffer '" + buffer + "' refused: the buffer is "
                + (freed ? "closed and its memory freed" : "closing (close has begun and refuses new users)"));
        this.buffer = buffer;
    }

    /**
     * The name of the buffer that is closed.
     *
     * @return the buffer's name
     */
    public String buffer() {
        return buffer;
    }
}
