package dev.bufsync.ww;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;

/** Unit tests of {@link BackoffException}: what it says, and that it says it after serialization. */
class BackoffExceptionTest {

    /** A back-off of context #7 of class "bo"; its message is not read yet. */
    private static BackoffException unread(BackoffException.Reason reason, long olderStamp) {
        WwClass cls = WwClass.builder("bo").firstStamp(7).injectBackoff(false).build();
        try (AcquireContext ctx = cls.begin()) {
            return new BackoffException(new WwMutex(cls), ctx, reason, olderStamp, false);
        }
    }

    /** Like {@link #unread}, after checking its accessors and the frame of its message. */
    private static BackoffException backoff(BackoffException.Reason reason, long olderStamp) {
        BackoffException e = unread(reason, olderStamp);
        assertThat(e.reason()).isEqualTo(reason);
        assertThat(e.stamp()).isEqualTo(7);
        assertThat(e.olderStamp()).isEqualTo(olderStamp);
        assertThat(e.getMessage()).startsWith("context #7 of class bo must back off on " + e.mutex().describe() + ": ")
                .endsWith("; unlock everything, then lockSlow this mutex");
        return e;
    }

    /** Each reason explains itself and names the older context. */
    @Test
    void messageSaysWhy() {
        assertThat(backoff(BackoffException.Reason.WOUNDED, 3).getMessage())
                .contains(": it was wounded by older context #3;");
        assertThat(backoff(BackoffException.Reason.DIED, 4).getMessage())
                .contains(": older context #4 holds or waits for it;");
        assertThat(backoff(BackoffException.Reason.INJECTED, 7).getMessage())
                .contains(": back-off injection is on;");
    }

    /** A back-off of a shared lock names the shared slow lock to take. */
    @Test
    void sharedBackoffNamesLockSharedSlow() {
        WwClass cls = WwClass.builder("bo").firstStamp(7).injectBackoff(false).build();
        WwSharedMutex m = new WwSharedMutex(cls);
        try (AcquireContext ctx = cls.begin()) {
            BackoffException e = new BackoffException(m, ctx, BackoffException.Reason.DIED, 3, true);
            assertThat(e.getMessage()).isEqualTo("context #7 of class bo must back off on " + m.describe()
                    + ": older context #3 holds or waits for it; unlock everything, then lockSharedSlow this mutex");
        }
    }

    /** The message is built once and kept. */
    @Test
    void messageIsBuiltOnce() {
        BackoffException e = backoff(BackoffException.Reason.DIED, 1);
        assertThat(e.getMessage()).isSameAs(e.getMessage());
    }

    /** Serialized before anyone read its message, it still has it (the mutex, transient, is not sent). */
    @Test
    void serializedExceptionKeepsItsMessage() throws Exception {
        BackoffException unread = unread(BackoffException.Reason.WOUNDED, 2);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(unread);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            BackoffException copy = (BackoffException) in.readObject();
            assertThat(copy.mutex()).isNull();
            assertThat(copy.reason()).isEqualTo(BackoffException.Reason.WOUNDED);
            assertThat(copy.stamp()).isEqualTo(unread.stamp());
            assertThat(copy.olderStamp()).isEqualTo(2);
            assertThat(copy.getMessage()).isEqualTo(unread.getMessage()).contains("wounded by older context #2");
        }
    }
}
