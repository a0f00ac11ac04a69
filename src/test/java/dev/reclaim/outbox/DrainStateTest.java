package dev.reclaim.outbox;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The drain's resumption and backoff, without a database. */
class DrainStateTest {
    private final DrainState state = new DrainState();

    @Test
    void shouldStartFromTheBeginning_whenTheStoreWasNotDrainedInThisRun() {
        assertThat(state.cursor("s3").after()).isZero();
    }

    @Test
    void shouldResumeAfterTheLastBatchTried_whenEveryBatchWasTried() {
        DrainState.Cursor cursor = state.cursor("s3");
        cursor.read(1, 1000);
        cursor.tried();
        cursor.read(1001, 1500);
        cursor.tried();

        state.save("s3", cursor);

        assertThat(state.cursor("s3").after()).isEqualTo(1500);
    }

    @Test
    void shouldResumeBeforeABatchReadButNotTried_whenTheQuotaOrDeadlineStoppedIt() {
        DrainState.Cursor cursor = state.cursor("cdn");
        cursor.read(1, 100);
        cursor.tried();
        cursor.read(101, 200); // throttled: never sent

        state.save("cdn", cursor);

        assertThat(state.cursor("cdn").after()).isEqualTo(100);
    }

    @Test
    void shouldNeverMoveBackBeforeWhereTheRunHadGot_whenAFirstBatchIsLeftUntried() {
        DrainState.Cursor first = state.cursor("cdn");
        first.read(1, 100);
        first.tried();
        state.save("cdn", first);

        DrainState.Cursor second = state.cursor("cdn");
        second.read(250, 300);
        state.save("cdn", second);

        assertThat(state.cursor("cdn").after()).isEqualTo(249);
    }

    @Test
    void shouldKeepEachStoresPlace_separately() {
        DrainState.Cursor s3 = state.cursor("s3");
        s3.read(5, 9);
        s3.tried();
        state.save("s3", s3);

        assertThat(state.cursor("cdn").after()).isZero();
        assertThat(state.cursor("s3").after()).isEqualTo(9);
    }

    @Test
    void shouldDoubleTheWaitPerAttemptUpToTheMaximum() {
        Outbox.Policy policy = new Outbox.Policy(Duration.ofMinutes(15), Duration.ofHours(12), Duration.ofHours(24));

        assertThat(policy.delayAfter(0)).isEqualTo(Duration.ofMinutes(15));
        assertThat(policy.delayAfter(1)).isEqualTo(Duration.ofMinutes(30));
        assertThat(policy.delayAfter(5)).isEqualTo(Duration.ofMinutes(480));
        assertThat(policy.delayAfter(6)).isEqualTo(Duration.ofHours(12));
        assertThat(policy.delayAfter(1_000)).isEqualTo(Duration.ofHours(12));
    }
}
