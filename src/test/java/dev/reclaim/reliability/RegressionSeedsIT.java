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
}
