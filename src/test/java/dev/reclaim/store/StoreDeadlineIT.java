package dev.reclaim.store;

import com.cloudinary.Cloudinary;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.StoreConfig;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.cloudinary.Asset;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Item 11 of the Trust issue: no store call outlives the deadline it is given. A hanging S3 or Cloudinary ends the
 * call at the deadline with {@link StoreDeadlinePassed} (not a failure of the keys), and no call or retry starts
 * once the deadline has passed.
 */
class StoreDeadlineIT {
    private static final Duration LEFT = Duration.ofSeconds(2);
    // The call may overrun its deadline by this much (closing the connection, the JVM's timers).
    private static final Duration SLACK = Duration.ofSeconds(1);
    // Far below the 30 s socket timeout, so the starting code fails here instead of hanging the suite.
    private static final Duration HARD_STOP = Duration.ofSeconds(6);
    private static final List<String> KEYS = List.of("uploads/tmp/u1/a.pdf", "uploads/tmp/u1/b.pdf");
    private static final List<String> IDS = List.of("users/u1/temp/a", "users/u1/temp/b");

    /** Accepts TCP connections on 127.0.0.1 and never answers, like an S3 endpoint that hangs. */
    private static final class SilentServer implements AutoCloseable {
        final ServerSocket socket;
        final List<Socket> accepted = new CopyOnWriteArrayList<>();

        SilentServer() throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(socket.accept());
                    }
                } catch (IOException closed) {
                    // closed by the test
                }
            }, "silent-s3");
            t.setDaemon(true);
            t.start();
        }

        String endpoint() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket s : accepted) {
                s.close();
            }
        }
    }

    /** An S3 store built the way Reclaim builds it (its HTTP client, socket timeout and SDK retries included). */
    private static Stores s3Stores(String endpoint) {
        StoreConfig.S3 config = new StoreConfig.S3("moc-files", "moc-instructions", "us-east-1", endpoint, true,
                List.of("uploads/"), null);
        return ReclaimFixture.stores(new ReclaimConfig("test", Map.of("moc-files", config), Map.of()),
                Map.of("AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test", "AWS_REGION", "us-east-1"));
    }

    private static CloudinaryStore cloudinaryStore(CloudinaryEmulator emulator, Duration timeout,
                                                   CloudinaryStore.Retries retries) {
        return new CloudinaryStore(new StoreConfig.Cloudinary("bobblehead-photos", "image", "upload", 0.2, timeout,
                retries.maxAttempts(), retries.initialDelay(), List.of("users/"), null, StoreConfig.FolderMode.FIXED),
                new Cloudinary(emulator.cloudinaryUrl()), retries, Clock.systemUTC());
    }

    private interface StoreCall {
        Object run(Instant deadline);
    }

    /** Runs the call with {@link #LEFT} to go; returns what it threw, having checked it ended near the deadline. */
    private static Throwable callWithTwoSecondsLeft(StoreCall call) {
        return assertTimeoutPreemptively(HARD_STOP, () -> {
            long start = System.nanoTime();
            Throwable thrown = catchThrowable(() -> call.run(Instant.now().plus(LEFT)));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(took).isLessThan(LEFT.plus(SLACK));
            // A cut-short call must not leave the caller's thread interrupted (its next JDBC call would fail).
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            return thrown;
        });
    }

    @Test
    void shouldEndADeleteAtTheDeadlineWithStoreDeadlinePassed_whenS3Hangs() throws Exception {
        try (SilentServer s3 = new SilentServer(); Stores stores = s3Stores(s3.endpoint())) {
            Store store = stores.get("moc-files");

            Throwable thrown = callWithTwoSecondsLeft(deadline -> store.delete(KEYS, deadline));

            assertThat(thrown).isInstanceOf(StoreDeadlinePassed.class);
            assertThat(s3.accepted).isNotEmpty();
        }
    }

    @Test
    void shouldEndAListingAtTheDeadlineWithStoreDeadlinePassed_whenS3Hangs() throws Exception {
        try (SilentServer s3 = new SilentServer(); Stores stores = s3Stores(s3.endpoint())) {
            Store store = stores.get("moc-files");

            Throwable thrown = callWithTwoSecondsLeft(deadline -> store.list("uploads/tmp/", null, null, deadline));

            assertThat(thrown).isInstanceOf(StoreDeadlinePassed.class);
        }
    }

    @Test
    void shouldMakeNoS3Call_whenTheDeadlineHasAlreadyPassed() throws Exception {
        try (SilentServer s3 = new SilentServer(); Stores stores = s3Stores(s3.endpoint())) {
            Store store = stores.get("moc-files");
            Instant passed = Instant.now().minusMillis(1);

            Throwable onDelete = assertTimeoutPreemptively(HARD_STOP, () -> catchThrowable(() -> store.delete(KEYS, passed)));
            Throwable onList = assertTimeoutPreemptively(HARD_STOP, () -> catchThrowable(() -> store.list("uploads/", null, null, passed)));

            assertThat(onDelete).isInstanceOf(StoreDeadlinePassed.class);
            assertThat(onList).isInstanceOf(StoreDeadlinePassed.class);
            assertThat(store.apiCalls()).isZero();
            Thread.sleep(100); // a connection the store opened would be accepted by now
            assertThat(s3.accepted).isEmpty();
        }
    }

    @Test
    void shouldEndADeleteAtTheDeadlineAndNotRetryAfterIt_whenCloudinaryHangs() {
        try (CloudinaryEmulator emulator = CloudinaryEmulator.builder().timeoutHold(Duration.ofSeconds(30)).start()) {
            emulator.seed(Asset.image(IDS.get(0), Instant.parse("2024-06-25T08:58:23Z"), 1));
            emulator.timeoutNext(10);
            CloudinaryStore store = cloudinaryStore(emulator, Duration.ofSeconds(10),
                    new CloudinaryStore.Retries(4, Duration.ofMillis(100), Duration.ofSeconds(1)));

            Throwable thrown = callWithTwoSecondsLeft(deadline -> store.delete(IDS, deadline));

            assertThat(thrown).isInstanceOf(StoreDeadlinePassed.class);
            assertThat(emulator.deleteCalls()).isEqualTo(1);
            assertThat(store.apiCalls()).isEqualTo(1);
        }
    }

    @Test
    void shouldEndAListingAtTheDeadline_whenCloudinaryHangs() {
        try (CloudinaryEmulator emulator = CloudinaryEmulator.builder().timeoutHold(Duration.ofSeconds(30)).start()) {
            // One attempt in all: the attempt the deadline cuts short is the last, and still no failure.
            CloudinaryStore store = cloudinaryStore(emulator, Duration.ofSeconds(10),
                    new CloudinaryStore.Retries(1, Duration.ofMillis(100), Duration.ofSeconds(1)));
            store.prepare(null); // the folder mode, asked before the emulator hangs
            emulator.timeoutNext(10);

            Throwable thrown = callWithTwoSecondsLeft(deadline -> store.list("users/", null, null, deadline));

            assertThat(thrown).isInstanceOf(StoreDeadlinePassed.class);
            assertThat(emulator.listCalls()).isEqualTo(1);
        }
    }

    @Test
    void shouldNotSleepTowardsARetryThatWouldStartAfterTheDeadline_whenCloudinaryFailsWith500() {
        try (CloudinaryEmulator emulator = CloudinaryEmulator.start()) {
            emulator.failNext(1, 500);
            CloudinaryStore store = cloudinaryStore(emulator, Duration.ofSeconds(10),
                    new CloudinaryStore.Retries(4, Duration.ofSeconds(3), Duration.ofSeconds(30)));

            long start = System.nanoTime();
            Throwable thrown = callWithTwoSecondsLeft(deadline -> store.delete(IDS, deadline));

            // The backoff (3 s, less 25% jitter at worst) ends after the deadline: give up at once, keys not failed.
            assertThat(thrown).isInstanceOf(StoreDeadlinePassed.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            assertThat(emulator.deleteCalls()).isEqualTo(1);
        }
    }

    @Test
    void shouldMakeNoCloudinaryCall_whenTheDeadlineHasAlreadyPassed() {
        try (CloudinaryEmulator emulator = CloudinaryEmulator.start()) {
            CloudinaryStore store = cloudinaryStore(emulator, Duration.ofSeconds(10), CloudinaryStore.Retries.DEFAULT);
            Instant passed = Instant.now().minusMillis(1);

            assertThat(catchThrowable(() -> store.delete(IDS, passed))).isInstanceOf(StoreDeadlinePassed.class);
            assertThat(catchThrowable(() -> store.list("users/", null, null, passed))).isInstanceOf(StoreDeadlinePassed.class);
            assertThat(emulator.totalCalls()).isZero();
            assertThat(store.apiCalls()).isZero();
        }
    }
}
