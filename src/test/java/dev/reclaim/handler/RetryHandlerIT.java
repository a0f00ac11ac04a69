package dev.reclaim.handler;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.tests.annotations.Event;
import dev.reclaim.Reclaim;
import dev.reclaim.run.RetryWorker;
import dev.reclaim.report.RunEvents;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;

import static org.assertj.core.api.Assertions.assertThat;

/** The retry Lambda handler, fed events/retry-batch.json as the SQS event source would deliver it. */
class RetryHandlerIT {
    /** The items the two messages of events/retry-batch.json name. */
    private static final String RETRIED = "6a1f0c52-3d4e-4b8a-9c7d-1e2f3a4b5c6d";
    private static final String STILL_FAILING = "9b2e1d63-4e5f-4c9b-8d0e-2f3a4b5c6d7e";
    private static final String STILL_FAILING_MESSAGE = "c1d2e3f4-0002-4a5b-8c9d-0e1f2a3b4c5d";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();

    @BeforeEach
    void setUp() throws Exception {
        TestSqs.retryQueues(fx.env(), "reclaim-retry", 3);
        fx.execute("INSERT INTO moc_instructions (id, user_id, title, deleted_at) VALUES "
                + "('" + RETRIED + "', gen_random_uuid(), 'Castle', now() - interval '40 days'), "
                + "('" + STILL_FAILING + "', gen_random_uuid(), 'poison', now() - interval '40 days')");
        // Its delete still raises, as the broken trigger that made it fail the first time would.
        fx.refuseToDeletePoisonMocs();
    }

    @ParameterizedTest
    @Event(value = "events/retry-batch.json", type = SQSEvent.class)
    void shouldReportOnlyTheMessageThatFailedAgain_whenOneOfTwoRetriedRecordsIsPurged(SQSEvent event) throws Exception {
        assertThat(event.getRecords()).hasSize(2);

        SQSBatchResponse response;
        try (Reclaim reclaim = fx.reclaim()) {
            RetryWorker worker = new RetryWorker(reclaim.retries(), reclaim.retryQueue(), RunEvents.none());
            response = new RetryHandler(worker, false).handleRequest(event, null);
        }

        assertThat(response.getBatchItemFailures()).extracting(SQSBatchResponse.BatchItemFailure::getItemIdentifier)
                .containsExactly(STILL_FAILING_MESSAGE);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + RETRIED + "'")).isZero();
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + STILL_FAILING + "'")).isEqualTo(1);
    }
}
