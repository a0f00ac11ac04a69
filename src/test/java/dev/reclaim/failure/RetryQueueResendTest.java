package dev.reclaim.failure;

import dev.reclaim.failure.RetryQueue.OutgoingMessage;
import dev.reclaim.failure.RetryQueue.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;
import software.amazon.awssdk.services.sqs.model.SqsException;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** RetryQueue's resend rounds against a scripted SqsClient (no service): what is resent, how often, what is reported. */
class RetryQueueResendTest {
    private static final String URL = "http://sqs.test/000000000000/retry";

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    @Test
    void shouldResendOnlyTheTransientlyFailedEntries_whenAnAnswerListsThemUnderFailed() {
        // Round 1: entries 3 and 17 failed transiently; round 2 takes them.
        ScriptedSqs sqs = new ScriptedSqs((call, r) -> call <= 3 ? answer(r, Set.of("m3", "m17"), "InternalError") : answer(r, Set.of(), null));

        List<Outcome> outcomes = new RetryQueue(sqs, URL, null).send(messages(25));

        assertThat(outcomes).extracting(Outcome::id).containsExactlyElementsOf(ids(25));
        assertThat(outcomes).allSatisfy(o -> assertThat(o.accepted()).as(o.id()).isTrue());
        assertThat(sqs.requests).extracting(r -> r.entries().size()).containsExactly(10, 10, 5, 2);
        assertThat(sqs.requests.get(3).entries()).extracting(SendMessageBatchRequestEntry::id).containsExactly("m3", "m17");
    }

    @Test
    void shouldStopAfterThreeRoundsWithPausesAndReportTheLastError_whenAnEntryKeepsFailing() {
        ScriptedSqs sqs = new ScriptedSqs((call, r) -> answer(r, Set.of("m1"), call == 3 ? "ServiceUnavailable" : "InternalError"));
        long start = System.nanoTime();

        List<Outcome> outcomes = new RetryQueue(sqs, URL, null).send(messages(2));

        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(600); // 200 ms, then 400 ms
        assertThat(sqs.requests).hasSize(RetryQueue.MAX_ROUNDS);
        assertThat(sqs.requests.subList(1, 3)).allSatisfy(r ->
                assertThat(r.entries()).extracting(SendMessageBatchRequestEntry::id).containsExactly("m1"));
        assertThat(outcomes.get(0).accepted()).isTrue();
        assertThat(outcomes.get(1)).satisfies(o -> {
            assertThat(o.accepted()).isFalse();
            assertThat(o.errorCode()).isEqualTo("ServiceUnavailable");
            assertThat(o.error()).isEqualTo("ServiceUnavailable: scripted ServiceUnavailable");
            assertThat(o.senderFault()).isFalse();
        });
    }

    @Test
    void shouldResendAnEntryAndReportMissingResult_whenAnswersLeaveItOut() {
        ScriptedSqs sqs = new ScriptedSqs((call, r) -> answer(r, Set.of(), null, "m0"));

        List<Outcome> outcomes = new RetryQueue(sqs, URL, null).send(messages(3));

        assertThat(sqs.requests).extracting(r -> r.entries().size()).containsExactly(3, 1, 1);
        assertThat(outcomes).extracting(Outcome::accepted).containsExactly(false, true, true);
        assertThat(outcomes.get(0).errorCode()).isEqualTo("MissingResult");
        assertThat(outcomes.get(0).senderFault()).isFalse();
    }

    @Test
    void shouldNotResendAWholeRequestSqsRefused_andBlameTheSenderOnlyBelow500() {
        ScriptedSqs sqs = new ScriptedSqs((call, r) -> {
            throw SqsException.builder().statusCode(call == 1 ? 403 : 500).message("refused " + call)
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode(call == 1 ? "AccessDenied" : "InternalFailure").build())
                    .build();
        });

        List<Outcome> outcomes = new RetryQueue(sqs, URL, null).send(messages(15));

        assertThat(sqs.requests).hasSize(2);
        assertThat(outcomes.subList(0, 10)).allSatisfy(o -> {
            assertThat(o.errorCode()).isEqualTo("AccessDenied");
            assertThat(o.senderFault()).isTrue();
        });
        assertThat(outcomes.subList(10, 15)).allSatisfy(o -> {
            assertThat(o.errorCode()).isEqualTo("InternalFailure");
            assertThat(o.senderFault()).isFalse();
        });
    }

    @Test
    void shouldRefuseAsUnreachableEverythingNotYetAccepted_whenSqsCannotBeReachedMidway() {
        ScriptedSqs sqs = new ScriptedSqs((call, r) -> {
            if (call == 2) {
                throw SdkClientException.create("connection refused");
            }
            return answer(r, Set.of("m2"), "InternalError");
        });

        List<Outcome> outcomes = new RetryQueue(sqs, URL, null).send(messages(25));

        assertThat(sqs.requests).hasSize(2);
        for (int i = 0; i < 25; i++) {
            Outcome o = outcomes.get(i);
            if (i < 10 && i != 2) {
                assertThat(o.accepted()).as(o.id()).isTrue();
            } else {
                assertThat(o.errorCode()).as(o.id()).isEqualTo("Unreachable");
                assertThat(o.senderFault()).isFalse();
            }
        }
    }

    @Test
    void shouldReportTheRestNotSentAndKeepTheInterrupt_whenInterruptedBetweenRounds() {
        ScriptedSqs sqs = new ScriptedSqs((call, r) -> answer(r, Set.of("m0"), "InternalError"));
        Thread.currentThread().interrupt();

        List<Outcome> outcomes = new RetryQueue(sqs, URL, null).send(messages(2));

        assertThat(Thread.interrupted()).isTrue();
        assertThat(sqs.requests).hasSize(1);
        assertThat(outcomes).extracting(Outcome::accepted).containsExactly(false, true);
        assertThat(outcomes.get(0).errorCode()).isEqualTo("InternalError");
    }

    private static List<OutgoingMessage> messages(int n) {
        return IntStream.range(0, n).mapToObj(i -> new OutgoingMessage("row-" + i, "body-" + i, 1, "s")).toList();
    }

    private static List<String> ids(int n) {
        return messages(n).stream().map(OutgoingMessage::id).toList();
    }

    /** Every entry accepted except those in {@code failing} (under Failed, transient) and {@code omitted} (no result). */
    private static SendMessageBatchResponse answer(SendMessageBatchRequest request, Set<String> failing, String code,
                                                   String... omitted) {
        List<SendMessageBatchResultEntry> ok = new ArrayList<>();
        List<BatchResultErrorEntry> failed = new ArrayList<>();
        for (SendMessageBatchRequestEntry e : request.entries()) {
            if (failing.contains(e.id())) {
                failed.add(BatchResultErrorEntry.builder().id(e.id()).code(code).senderFault(false)
                        .message("scripted " + code).build());
            } else if (!List.of(omitted).contains(e.id())) {
                ok.add(SendMessageBatchResultEntry.builder().id(e.id()).messageId("sqs-" + e.id()).build());
            }
        }
        return SendMessageBatchResponse.builder().successful(ok).failed(failed).build();
    }

    /** Records each SendMessageBatch request and answers it with the script, given the call's number (from 1). */
    private static final class ScriptedSqs implements SqsClient {
        final List<SendMessageBatchRequest> requests = new ArrayList<>();
        private final BiFunction<Integer, SendMessageBatchRequest, SendMessageBatchResponse> script;

        ScriptedSqs(BiFunction<Integer, SendMessageBatchRequest, SendMessageBatchResponse> script) {
            this.script = script;
        }

        @Override
        public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
            requests.add(request);
            return script.apply(requests.size(), request);
        }

        @Override
        public String serviceName() {
            return "sqs";
        }

        @Override
        public void close() {
        }
    }
}
