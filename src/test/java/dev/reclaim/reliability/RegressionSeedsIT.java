package dev.reclaim.reliability;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;

import static org.assertj.core.api.Assertions.assertThat;

/** Tries of {@link RandomWorldsIT} that once failed, replayed as they were drawn: each names what it found. */
class RegressionSeedsIT {
    @Test
    void seed3535195788_aRunRetryingStoredFailuresCountsWhatTheirRetriesDelete() throws Exception {
        // The connections killed mid-run left a record failure stored; the next run retried it, and the retry's drain
        // deleted the keys the failed run had left in the outbox without the run's report counting them (promise 5).
        // Fixed with RunAccountingIT.aRunRetryingTheFailuresItFindsStored_shouldCountTheFilesThoseRetriesDelete.
        assertThat(RandomWorldsIT.trial(EnumSet.of(Fault.S3_UNREACHABLE, Fault.CLOUDINARY_5XX, Fault.CONNECTIONS_KILLED,
                Fault.CLOUDINARY_420, Fault.CONCURRENT_RUN), 14, 5, 22, 3535195788L)).isEmpty();
    }

    @Test
    void seedMinus68_aStoredFailureFailingAgainCountsWhatItsRetrysDrainDeletes() throws Exception {
        // A MOC whose thumbnail is outside the prefixes fails at every retry, yet each retry drains the outbox: once S3
        // stopped refusing a thumbnail, that drain deleted it outside any report (drawn at the soak's scale 2).
        // Fixed with the seed above; guarded by RunAccountingIT.aStoredFailureThatFailsAgain_shouldStillCountTheFilesItsRetrysDrainDeletes.
        assertThat(RandomWorldsIT.trial(EnumSet.of(Fault.S3_KEY_REFUSED), 5, 2, 3, -68L, 2)).isEmpty();
    }

    @Test
    void seedMinus786721703479183241_aKeyPendingInTheOutboxIsNotAlsoDeletedByAnAssetsSweep() throws Exception {
        // A MOC file saved from a temp upload kept its uploads/tmp/ key; its drain failed on SlowDown, upload-temp then
        // deleted it, and the next drain again: two reports counted one object (drawn at the soak's scale 3). Guarded by
        // RunAccountingIT.aKeyPendingInTheOutbox_shouldBeDeletedAndCountedOnce_whenAnAssetsSweepListsItToo.
        assertThat(RandomWorldsIT.trial(EnumSet.of(Fault.S3_SLOW_DOWN, Fault.DB_UNREACHABLE_AT_START), 11, 5, 4,
                -786721703479183241L, 3)).isEmpty();
    }
}
