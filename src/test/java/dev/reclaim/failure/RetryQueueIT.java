package dev.reclaim.failure;

import dev.reclaim.testing.TestSettings;

import dev.reclaim.config.AwsClients;
import dev.reclaim.failure.RetryQueue.OutgoingMessage;
import dev.reclaim.failure.RetryQueue.Outcome;
import dev.reclaim.testing.TestSqs;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SqsException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** RetryQueue against a real SQS-protocol server (ElasticMQ, in this JVM). */
class RetryQueueIT {
    private static final Duration DRAIN = Duration.ofSeconds(10);

    @Test
    void twentyFiveMessagesGoOutInThreeBatchesWithTheirAttributes() {
        String url = TestSqs.freshQueue("retry");
        ScriptedSqs sqs = new ScriptedSqs(TestSqs.client());
        RetryQueue queue = new RetryQueue(sqs, url, null);
        List<OutgoingMessage> messages = IntStream.range(0, 25)
                .mapToObj(i -> new OutgoingMessage(Integer.toString(1000 + i), "{\"n\":" + i + "}", i % 4, "sweep-" + i % 3))
                .toList();

        List<Outcome> outcomes = queue.send(messages);

        assertThat(outcomes).extracting(Outcome::id).containsExactlyElementsOf(messages.stream().map(OutgoingMessage::id).toList());
        assertThat(outcomes).allSatisfy(o -> {
            assertThat(o.accepted()).isTrue();
            assertThat(o.messageId()).isNotBlank();
            assertThat(o.error()).isNull();
        });
        assertThat(sqs.requests).extracting(r -> r.entries().size()).containsExactly(10, 10, 5);
        for (SendMessageBatchRequest r : sqs.requests) {
            assertThat(r.entries().stream().map(SendMessageBatchRequestEntry::id).distinct().count())
                    .isEqualTo(r.entries().size());
        }
        Map<String, Message> byBody = byBody(TestSqs.drain(url, 25, DRAIN));
        assertThat(byBody).hasSize(25);
        for (int i = 0; i < 25; i++) {
            Message m = byBody.get("{\"n\":" + i + "}");
            assertThat(m).as("message %d", i).isNotNull();
            assertThat(m.messageAttributes().get("retryCount").dataType()).isEqualTo("Number");
            assertThat(m.messageAttributes().get("retryCount").stringValue()).isEqualTo(Integer.toString(i % 4));
            assertThat(m.messageAttributes().get("sweep").dataType()).isEqualTo("String");
            assertThat(m.messageAttributes().get("sweep").stringValue()).isEqualTo("sweep-" + i % 3);
        }
    }

    @Test
    void batchesAreSplitAtOneMebibyte() {
        String url = TestSqs.freshQueue("retry-big");
        // The test server refuses a request of more than 1 MiB, as SQS does: ten 200 KiB messages cannot go at once.
        assertThatThrownBy(() -> TestSqs.client().sendMessageBatch(b -> b.queueUrl(url).entries(
                IntStream.range(0, 10).mapToObj(i -> SendMessageBatchRequestEntry.builder().id("e" + i)
                        .messageBody(filler(i, 200 * 1024)).build()).toList())))
                .isInstanceOf(SqsException.class).hasMessageContaining("MessageTooLong");
        ScriptedSqs sqs = new ScriptedSqs(TestSqs.client());
        RetryQueue queue = new RetryQueue(sqs, url, null);
        List<OutgoingMessage> messages = IntStream.range(0, 10)
                .mapToObj(i -> new OutgoingMessage("big-" + i, filler(i, 200 * 1024), 0, "moc-purge")).toList();

        List<Outcome> outcomes = queue.send(messages);

        assertThat(outcomes).allSatisfy(o -> assertThat(o.accepted()).as(o.error()).isTrue());
        assertThat(sqs.requests.size()).isGreaterThanOrEqualTo(2);
        for (SendMessageBatchRequest r : sqs.requests) {
            assertThat(r.entries().stream().mapToLong(e -> e.messageBody().length()).sum())
                    .isLessThanOrEqualTo(RetryQueue.MAX_BYTES);
        }
        assertThat(sqs.requests.stream().mapToInt(r -> r.entries().size()).sum()).isEqualTo(10);
        Map<String, Message> byBody = byBody(TestSqs.drain(url, 10, DRAIN));
        assertThat(byBody.keySet()).containsExactlyInAnyOrderElementsOf(messages.stream().map(OutgoingMessage::body).toList());
    }

    @Test
    void aMessageOverTheLimitIsRefusedAndTheOthersGo() {
        String url = TestSqs.freshQueue("retry-too-long");
        ScriptedSqs sqs = new ScriptedSqs(TestSqs.client());
        RetryQueue queue = new RetryQueue(sqs, url, null);
        List<OutgoingMessage> messages = List.of(
                new OutgoingMessage("a", filler(1, 700 * 1024), 1, "s"),
                new OutgoingMessage("too-long", filler(2, RetryQueue.MAX_BYTES), 1, "s"),
                new OutgoingMessage("b", filler(3, 700 * 1024), 1, "s"),
                new OutgoingMessage("bad-chars", "nul \u0000 inside", 1, "s"));

        List<Outcome> outcomes = queue.send(messages);

        assertThat(outcomes).extracting(Outcome::id, Outcome::accepted, Outcome::errorCode, Outcome::senderFault)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("a", true, null, false),
                        org.assertj.core.groups.Tuple.tuple("too-long", false, "MessageTooLong", true),
                        org.assertj.core.groups.Tuple.tuple("b", true, null, false),
                        org.assertj.core.groups.Tuple.tuple("bad-chars", false, "InvalidMessageContents", true));
        // 700 KiB + 700 KiB exceed 1 MiB: one request each; the refused ones never went out.
        assertThat(sqs.requests).extracting(r -> r.entries().size()).containsExactly(1, 1);
        assertThat(byBody(TestSqs.drain(url, 2, DRAIN)).keySet())
                .containsExactlyInAnyOrder(messages.get(0).body(), messages.get(2).body());
    }

    @Test
    void failedEntriesOfAnAnswerAreSentAgainOnce() {
        String url = TestSqs.freshQueue("retry-partial");
        // The first answer lists one entry under Failed (as SQS does for a transient InternalError) without sending it.
        ScriptedSqs sqs = new ScriptedSqs(TestSqs.client())
                .failing(e -> e.messageBody().equals("body-3"), 1, "InternalError", false);
        RetryQueue queue = new RetryQueue(sqs, url, null);
        List<OutgoingMessage> messages = IntStream.range(0, 10)
                .mapToObj(i -> new OutgoingMessage("row-" + i, "body-" + i, 2, "render-outputs")).toList();

        List<Outcome> outcomes = queue.send(messages);

        assertThat(outcomes).allSatisfy(o -> assertThat(o.accepted()).as(o.id()).isTrue());
        assertThat(sqs.requests).hasSize(2);
        assertThat(sqs.requests.get(1).entries()).extracting(SendMessageBatchRequestEntry::messageBody)
                .containsExactly("body-3");
        List<Message> received = TestSqs.drain(url, 10, DRAIN);
        assertThat(received).extracting(Message::body).hasSize(10)
                .containsExactlyInAnyOrderElementsOf(messages.stream().map(OutgoingMessage::body).toList());
        Message resent = byBody(received).get("body-3");
        assertThat(resent.messageAttributes().get("retryCount").stringValue()).isEqualTo("2");
        assertThat(resent.messageAttributes().get("sweep").stringValue()).isEqualTo("render-outputs");
    }

    @Test
    void senderFaultFailuresAreNotSentAgain() {
        String url = TestSqs.freshQueue("retry-sender-fault");
        ScriptedSqs sqs = new ScriptedSqs(TestSqs.client())
                .failing(e -> e.messageBody().equals("body-1"), Integer.MAX_VALUE, "InvalidParameterValue", true);
        RetryQueue queue = new RetryQueue(sqs, url, null);
        List<OutgoingMessage> messages = IntStream.range(0, 3)
                .mapToObj(i -> new OutgoingMessage("row-" + i, "body-" + i, 0, "s")).toList();

        List<Outcome> outcomes = queue.send(messages);

        assertThat(outcomes).extracting(Outcome::accepted).containsExactly(true, false, true);
        assertThat(outcomes.get(1).errorCode()).isEqualTo("InvalidParameterValue");
        assertThat(outcomes.get(1).senderFault()).isTrue();
        assertThat(sqs.requests).hasSize(1);
        assertThat(TestSqs.drain(url, 2, DRAIN)).extracting(Message::body).containsExactlyInAnyOrder("body-0", "body-2");
    }

    @Test
    void resendingIsBounded() {
        String url = TestSqs.freshQueue("retry-bounded");
        ScriptedSqs sqs = new ScriptedSqs(TestSqs.client())
                .failing(e -> e.messageBody().equals("stuck"), Integer.MAX_VALUE, "InternalError", false);
        RetryQueue queue = new RetryQueue(sqs, url, null);

        List<Outcome> outcomes = queue.send(List.of(new OutgoingMessage("1", "fine", 0, "s"),
                new OutgoingMessage("2", "stuck", 0, "s")));

        assertThat(outcomes).extracting(Outcome::accepted).containsExactly(true, false);
        assertThat(outcomes.get(1).errorCode()).isEqualTo("InternalError");
        assertThat(outcomes.get(1).senderFault()).isFalse();
        assertThat(sqs.requests).hasSize(RetryQueue.MAX_ROUNDS);
        assertThat(TestSqs.drain(url, 1, DRAIN)).extracting(Message::body).containsExactly("fine");
    }

    @Test
    void anUnreachableQueueRefusesEverythingWithoutThrowing() {
        Map<String, String> env = TestSqs.environment();
        env.put("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:1");
        env.put("RECLAIM_RETRY_QUEUE_URL", "http://127.0.0.1:1/000000000000/nowhere");
        try (AwsClients aws = new AwsClients(TestSettings.of(env).aws())) {
            RetryQueue queue = RetryQueue.configured(TestSettings.of(env).queues(), aws);
            List<OutgoingMessage> messages = IntStream.range(0, 15)
                    .mapToObj(i -> new OutgoingMessage("row-" + i, "body-" + i, 0, "s")).toList();

            List<Outcome> outcomes = queue.send(messages);

            assertThat(outcomes).hasSize(15).allSatisfy(o -> {
                assertThat(o.accepted()).isFalse();
                assertThat(o.errorCode()).isEqualTo("Unreachable");
                assertThat(o.senderFault()).isFalse();
            });
        }
    }

    @Test
    void fromEnvironmentUsesTheEndpointAndIsNullWithoutAQueue() {
        String url = TestSqs.freshQueue("retry-env");
        Map<String, String> env = TestSqs.environment();
        env.put("RECLAIM_RETRY_QUEUE_URL", url);
        try (AwsClients aws = new AwsClients(TestSettings.of(env).aws())) {
            assertThat(RetryQueue.configured(TestSettings.of(TestSqs.environment()).queues(), aws)).isNull();
            RetryQueue queue = RetryQueue.configured(TestSettings.of(env).queues(), aws);
            assertThat(queue.depths()).extracting(RetryQueue.Depth::queue).containsExactly("RECLAIM_RETRY_QUEUE_URL");
            assertThat(queue.send(List.of(new OutgoingMessage("7", "hello", 0, "upload-temp"))))
                    .singleElement().satisfies(o -> assertThat(o.accepted()).isTrue());
            List<Message> got = queue.receive(10, Duration.ofSeconds(2));
            assertThat(got).singleElement().satisfies(m -> {
                assertThat(m.body()).isEqualTo("hello");
                assertThat(m.attributes().get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)).isEqualTo("1");
                assertThat(m.messageAttributes().get("sweep").stringValue()).isEqualTo("upload-temp");
            });
            queue.delete(got.get(0));
            assertThat(queue.receive(10, Duration.ofSeconds(2))).isEmpty();
        }
    }

    @Test
    void requeuePutsTheMessageBackAfterTheDelay() {
        String url = TestSqs.freshQueue("retry-requeue");
        RetryQueue queue = new RetryQueue(TestSqs.client(), url, null);

        assertThat(queue.requeue("later", 4, "moc-purge", Duration.ofSeconds(1))).isNotBlank();

        assertThat(queue.receive(10, Duration.ZERO)).isEmpty();
        assertThat(queue.receive(10, Duration.ofSeconds(5))).singleElement().satisfies(m -> {
            assertThat(m.body()).isEqualTo("later");
            assertThat(m.messageAttributes().get("retryCount").stringValue()).isEqualTo("4");
            assertThat(m.messageAttributes().get("sweep").stringValue()).isEqualTo("moc-purge");
        });
    }

    @Test
    void aMessageReceivedThreeTimesWithoutDeletionEndsInTheDeadLetterQueue() throws Exception {
        TestSqs.QueuePair pair = TestSqs.createQueuePair("retry-redrive", 3);
        RetryQueue queue = new RetryQueue(TestSqs.client(), pair.queueUrl(), pair.deadLetterQueueUrl());
        assertThat(queue.send(List.of(new OutgoingMessage("42", "poison", 5, "moc-purge"))))
                .singleElement().satisfies(o -> assertThat(o.accepted()).isTrue());

        for (int receive = 1; receive <= 3; receive++) {
            List<Message> got = queue.receive(10, Duration.ofSeconds(5)); // long poll: waits out the 1 s visibility
            assertThat(got).as("receive %d", receive).singleElement().satisfies(m -> assertThat(m.body()).isEqualTo("poison"));
            assertThat(got.get(0).attributes().get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT))
                    .isEqualTo(Integer.toString(receive));
        }
        Thread.sleep(1200); // past the visibility timeout: the next receive would be the 4th
        assertThat(queue.receive(10, Duration.ofSeconds(2))).isEmpty();

        List<Message> dead = TestSqs.drain(pair.deadLetterQueueUrl(), 1, DRAIN);
        assertThat(dead).singleElement().satisfies(m -> {
            assertThat(m.body()).isEqualTo("poison");
            assertThat(m.messageAttributes().get("retryCount").stringValue()).isEqualTo("5");
            assertThat(m.messageAttributes().get("sweep").stringValue()).isEqualTo("moc-purge");
        });
    }

    @Test
    void sendToDeadLetterPutsBodyAndReasonOnTheDeadLetterQueue() {
        TestSqs.QueuePair pair = TestSqs.createQueuePair("retry-dlq", 3);
        RetryQueue queue = new RetryQueue(TestSqs.client(), pair.queueUrl(), pair.deadLetterQueueUrl());

        queue.sendToDeadLetter("{not json", "not a Reclaim failure message: unexpected end", Map.of("sweep", "moc-purge"));

        assertThat(TestSqs.drain(pair.deadLetterQueueUrl(), 1, DRAIN)).singleElement().satisfies(m -> {
            assertThat(m.body()).isEqualTo("{not json");
            assertThat(m.messageAttributes().get("reason").stringValue())
                    .isEqualTo("not a Reclaim failure message: unexpected end");
            assertThat(m.messageAttributes().get("sweep").stringValue()).isEqualTo("moc-purge");
        });
        assertThat(TestSqs.drain(pair.queueUrl(), 0, Duration.ZERO)).isEmpty();
        RetryQueue withoutDlq = new RetryQueue(TestSqs.client(), pair.queueUrl(), null);
        assertThatThrownBy(() -> withoutDlq.sendToDeadLetter("x", "y", Map.of()))
                .isInstanceOf(IllegalStateException.class);
    }

    private static Map<String, Message> byBody(List<Message> messages) {
        Map<String, Message> out = new HashMap<>();
        for (Message m : messages) {
            assertThat(out.put(m.body(), m)).as("duplicate delivery of a body").isNull();
        }
        return out;
    }

    /** A body of {@code length} ASCII characters, distinct per {@code seed}. */
    private static String filler(int seed, int length) {
        String head = "message-" + seed + ":";
        return head + "x".repeat(length - head.length());
    }

    /**
     * The real client, recording each SendMessageBatch request; optionally, for its first {@code calls} calls, it
     * holds back the entries matching a predicate and reports them under {@code Failed} in an otherwise real answer.
     */
    static final class ScriptedSqs implements SqsClient {
        final List<SendMessageBatchRequest> requests = new CopyOnWriteArrayList<>();
        private final SqsClient real;
        private Predicate<SendMessageBatchRequestEntry> fail = e -> false;
        private int failingCalls;
        private String code;
        private boolean senderFault;

        ScriptedSqs(SqsClient real) {
            this.real = real;
        }

        ScriptedSqs failing(Predicate<SendMessageBatchRequestEntry> which, int calls, String code, boolean senderFault) {
            this.fail = which;
            this.failingCalls = calls;
            this.code = code;
            this.senderFault = senderFault;
            return this;
        }

        @Override
        public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
            requests.add(request);
            if (requests.size() > failingCalls) {
                return real.sendMessageBatch(request);
            }
            List<SendMessageBatchRequestEntry> kept = new ArrayList<>();
            List<BatchResultErrorEntry> held = new ArrayList<>();
            for (SendMessageBatchRequestEntry e : request.entries()) {
                if (fail.test(e)) {
                    held.add(BatchResultErrorEntry.builder().id(e.id()).code(code).senderFault(senderFault)
                            .message("scripted " + code).build());
                } else {
                    kept.add(e);
                }
            }
            SendMessageBatchResponse answer = kept.isEmpty() ? SendMessageBatchResponse.builder().build()
                    : real.sendMessageBatch(request.toBuilder().entries(kept).build());
            List<BatchResultErrorEntry> failed = new ArrayList<>(answer.failed());
            failed.addAll(held);
            return answer.toBuilder().failed(failed).build();
        }

        @Override
        public String serviceName() {
            return real.serviceName();
        }

        @Override
        public void close() {
            // the real client is shared
        }
    }
}
