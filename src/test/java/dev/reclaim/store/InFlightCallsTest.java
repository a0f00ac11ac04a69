package dev.reclaim.store;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InFlightCallsTest {

    @Test
    void shouldCutACallWaitingWhenTheCutComes_madeBeforeTheCutWasKnown() {
        InFlightCalls calls = new InFlightCalls();
        CountDownLatch never = new CountDownLatch(1);
        long t0 = System.nanoTime();
        new Thread(() -> calls.cutAt(Instant.now().plusMillis(300))).start(); // the stop arrives while the call hangs

        assertThatThrownBy(() -> calls.call(() -> {
            await(never);
            return "answer";
        })).isInstanceOf(StoreDeadlinePassed.class).hasMessageContaining("grace period ended");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(250), Duration.ofSeconds(5));
    }

    @Test
    void shouldRefuseANewCallAfterTheCut_andMakeItAgainOnceLifted() {
        InFlightCalls calls = new InFlightCalls();
        calls.cutAt(Instant.now().minusMillis(1));

        assertThatThrownBy(() -> calls.call(() -> "made")).isInstanceOf(StoreDeadlinePassed.class);

        calls.cutAt(null);
        assertThat(calls.call(() -> "made")).isEqualTo("made");
    }

    @Test
    void shouldGiveACallsOwnAnswerOrFailure_whenItComesBeforeTheCut() {
        InFlightCalls calls = new InFlightCalls();
        calls.cutAt(Instant.now().plusSeconds(30));

        assertThat(calls.call(() -> 42)).isEqualTo(42);
        assertThatThrownBy(() -> calls.call(() -> {
            throw new StoreThrottled("quota spent", null);
        })).isInstanceOf(StoreThrottled.class).hasMessage("quota spent");
        assertThatThrownBy(() -> calls.call(() -> {
            throw new AssertionError("a test store's own check");
        })).isInstanceOf(AssertionError.class);
    }

    @Test
    void shouldNotCutACallOfALaterRun_whenAnEarlierCutWasLifted() throws Exception {
        InFlightCalls calls = new InFlightCalls();
        calls.cutAt(Instant.now().plusMillis(200));
        calls.cutAt(null); // that run ended before its cut came
        CountDownLatch answered = new CountDownLatch(1);

        String answer = calls.call(() -> {
            await(answered, 500);
            return "answered after the lifted cut's time";
        });

        assertThat(answer).isEqualTo("answered after the lifted cut's time");
    }

    private static void await(CountDownLatch latch) {
        await(latch, 60_000);
    }

    private static void await(CountDownLatch latch, long millis) {
        try {
            latch.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
