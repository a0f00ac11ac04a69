package dev.reclaim.failure;

import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.RetryPolicy;
import dev.reclaim.config.AwsClients;
import dev.reclaim.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The SQS side of the failure pipeline: failed items go to the retry queue ({@code RECLAIM_RETRY_QUEUE_URL}),
 * malformed messages to the dead-letter queue ({@code RECLAIM_DLQ_URL}).
 *
 * <p>SendMessageBatch answers HTTP 200 even when some entries were refused: they are in its {@code Failed} list, which
 * is checked on every answer. Entries refused for a transient reason are sent again (at most {@value #MAX_ROUNDS}
 * rounds in all); those refused through the sender's fault are not. A request carries at most 10 entries and at most
 * 1 MiB of bodies and attributes. SQS delivers at least once: consumers must tolerate duplicates.
 */
public final class RetryQueue {
    public static final String RETRY_COUNT = "retryCount";
    public static final String SWEEP = "sweep";
    public static final String REASON = "reason";
    /** SendMessageBatch takes up to 10 entries. */
    public static final int MAX_ENTRIES = 10;
    /** Largest message, and largest SendMessageBatch payload (sum of bodies and attributes): 1 MiB. */
    public static final int MAX_BYTES = 1_048_576;
    /** Sending rounds of one {@link #send}: the first, then resends of transiently failed entries. */
    static final int MAX_ROUNDS = 3;
    private static final Duration RESEND_PAUSE = Duration.ofMillis(200);
    private static final int MAX_REASON_CHARS = 1024;
    /** SQS takes #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF; a lone surrogate is none of them. */
    private static final Pattern REFUSED_CHARACTER =
            Pattern.compile("[^\\x09\\x0A\\x0D\\x20-\\x{D7FF}\\x{E000}-\\x{FFFD}\\x{10000}-\\x{10FFFF}]");
    private static final Logger log = LoggerFactory.getLogger(RetryQueue.class);
    /** Rounds while some entries are still unsent, {@value #MAX_ROUNDS} at most, 200 ms then 400 ms apart. */
    private static final RetryPolicy<List<Pending>> RESENDS = RetryPolicy.<List<Pending>>builder()
            .handleResultIf(unsent -> !unsent.isEmpty())
            .withMaxAttempts(MAX_ROUNDS)
            .withBackoff(RESEND_PAUSE, RESEND_PAUSE.multipliedBy(MAX_ROUNDS - 1))
            .onFailedAttempt(e -> log.info("retry queue: {} entries failed transiently in round {}",
                    e.getLastResult().size(), e.getAttemptCount()))
            .build();

    /** One message to send; {@code id} is the caller's (a database row id, say) and comes back in its {@link Outcome}. */
    public record OutgoingMessage(String id, String body, int retryCount, String sweep) {
        public OutgoingMessage {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(body, "body");
        }
    }

    /**
     * What became of one message. {@code messageId} is SQS's when accepted; otherwise {@code errorCode} and
     * {@code error} say why, and {@code senderFault} says whether sending the same message again is pointless.
     */
    public record Outcome(String id, boolean accepted, String messageId, String errorCode, String error,
                          boolean senderFault) {
        static Outcome refused(String id, String code, String message, boolean senderFault) {
            return new Outcome(id, false, null, code, code + ": " + message, senderFault);
        }
    }

    private final SqsClient sqs;
    private final String queueUrl;
    private final String deadLetterQueueUrl;

    /** A queue on the given client, which stays the caller's to close. {@code deadLetterQueueUrl} may be null. */
    public RetryQueue(SqsClient sqs, String queueUrl, String deadLetterQueueUrl) {
        this.sqs = Objects.requireNonNull(sqs, "sqs");
        this.queueUrl = Objects.requireNonNull(queueUrl, "queueUrl");
        this.deadLetterQueueUrl = Settings.firstSet(deadLetterQueueUrl);
    }

    /** The retry queue {@code settings} names (null when none), on an SQS client of {@code aws} (which closes it). */
    public static RetryQueue configured(Settings.Queues settings, AwsClients aws) {
        return settings.url() == null ? null
                : new RetryQueue(aws.sqs(settings.region(), settings.endpoint()), settings.url(), settings.deadLetterUrl());
    }

    /** The work queue {@code settings} names (null when none), with its dead-letter queue: same SQS, same batches. */
    public static RetryQueue work(Settings.Queues settings, AwsClients aws) {
        return settings.workUrl() == null ? null : new RetryQueue(aws.sqs(settings.region(), settings.endpoint()),
                settings.workUrl(), settings.workDeadLetterUrl());
    }

    public String deadLetterQueueUrl() {
        return deadLetterQueueUrl;
    }

    /**
     * Sends the messages with SendMessageBatch; one outcome per message, in the same order. Never throws for SQS's
     * sake: when SQS cannot be reached, every message not yet accepted comes back refused.
     */
    public List<Outcome> send(List<OutgoingMessage> messages) {
        Outcome[] outcomes = new Outcome[messages.size()];
        List<Pending> unsent = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            OutgoingMessage m = messages.get(i);
            long size = size(m);
            String invalid = invalidBody(m.body());
            if (invalid != null) {
                outcomes[i] = Outcome.refused(m.id(), "InvalidMessageContents", invalid, true);
            } else if (size > MAX_BYTES) {
                outcomes[i] = Outcome.refused(m.id(), "MessageTooLong",
                        "message of " + size + " bytes (body and attributes); SQS takes at most " + MAX_BYTES, true);
            } else {
                // Each round replaces it: an entry still unsent after the last round keeps SQS's last word.
                outcomes[i] = Outcome.refused(m.id(), "NotSent", "not sent", false);
                unsent.add(new Pending(i, m, size));
            }
        }
        try {
            Failsafe.with(RESENDS).get(round -> round(round.getLastResult(unsent), outcomes));
        } catch (FailsafeException e) {
            if (!(e.getCause() instanceof InterruptedException)) {
                throw e;
            }
            // Interrupted between rounds (Failsafe keeps the interrupt flag): what is unsent is reported not sent.
        }
        return Arrays.asList(outcomes);
    }

    /** A message not yet accepted or refused for good, at its position in the list given to {@link #send}. */
    private record Pending(int index, OutgoingMessage message, long size) {
        /** Entry ids are the messages' positions in the list given to {@link #send}: unique within any request. */
        String entryId() {
            return "m" + index;
        }

        Outcome refused(String code, String error, boolean senderFault) {
            return Outcome.refused(message.id(), code, error, senderFault);
        }
    }

    /** Sends every unsent entry once, recording outcomes; returns those SQS failed transiently, for the next round. */
    private List<Pending> round(List<Pending> unsent, Outcome[] outcomes) {
        List<Pending> again = new ArrayList<>();
        List<List<Pending>> requests = split(unsent);
        for (int r = 0; r < requests.size(); r++) {
            List<Pending> request = requests.get(r);
            SendMessageBatchResponse answer;
            try {
                answer = sqs.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries(request)));
            } catch (AwsServiceException e) {
                // The whole request was refused (the SDK has already retried throttling and 5xx answers).
                String code = e.awsErrorDetails() == null ? "HTTP " + e.statusCode() : e.awsErrorDetails().errorCode();
                request.forEach(p -> outcomes[p.index()] = p.refused(code, e.getMessage(), e.statusCode() < 500));
                continue;
            } catch (SdkException e) {
                // SQS cannot be reached (or its answer cannot be read): stop, everything not accepted waits.
                log.warn("retry queue unreachable: {}", e.toString());
                again.addAll(requests.subList(r, requests.size()).stream().flatMap(List::stream).toList());
                again.forEach(p -> outcomes[p.index()] = p.refused("Unreachable", e.toString(), false));
                return List.of();
            }
            Map<String, Pending> unanswered = new LinkedHashMap<>();
            request.forEach(p -> unanswered.put(p.entryId(), p));
            for (SendMessageBatchResultEntry ok : answer.successful()) {
                Pending p = unanswered.remove(ok.id());
                if (p != null) {
                    outcomes[p.index()] = new Outcome(p.message().id(), true, ok.messageId(), null, null, false);
                }
            }
            for (BatchResultErrorEntry failed : answer.failed()) {
                Pending p = unanswered.remove(failed.id());
                if (p != null) {
                    boolean senderFault = Boolean.TRUE.equals(failed.senderFault());
                    outcomes[p.index()] = p.refused(failed.code(), failed.message(), senderFault);
                    if (!senderFault) {
                        again.add(p);
                    }
                }
            }
            for (Pending p : unanswered.values()) {
                outcomes[p.index()] = p.refused("MissingResult", "SQS answered without a result for this entry", false);
                again.add(p);
            }
        }
        return again;
    }

    /** Puts a message back on the retry queue, unchanged, visible again after {@code delay} (at most 15 minutes). */
    public String requeue(String body, int retryCount, String sweep, Duration delay) {
        long seconds = delay == null ? 0 : Math.max(0, Math.min(900, delay.toSeconds()));
        return sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(body).delaySeconds((int) seconds)
                .messageAttributes(attributes(retryCount, sweep))).messageId();
    }

    /**
     * Sends a malformed message straight to the dead-letter queue, with a {@code reason} attribute and the given
     * string attributes (blank values are left out). Throws when no dead-letter queue is configured or SQS refuses.
     */
    public void sendToDeadLetter(String body, String reason, Map<String, String> attributes) {
        if (deadLetterQueueUrl == null) {
            throw new IllegalStateException("no dead-letter queue configured (RECLAIM_DLQ_URL)");
        }
        Map<String, MessageAttributeValue> attrs = new LinkedHashMap<>();
        Objects.requireNonNullElse(attributes, Map.<String, String>of()).forEach((k, v) -> {
            if (k != null && !k.isBlank() && v != null && !v.isBlank() && !REASON.equals(k)) {
                attrs.put(k, string(v));
            }
        });
        String r = reason == null || reason.isBlank() ? "unspecified" : reason;
        attrs.put(REASON, string(r.length() <= MAX_REASON_CHARS ? r : r.substring(0, MAX_REASON_CHARS)));
        sqs.sendMessage(b -> b.queueUrl(deadLetterQueueUrl).messageBody(body).messageAttributes(attrs));
    }

    /**
     * Up to {@code max} (at most 10) messages from the retry queue, long-polling up to {@code wait} (at most 20 s),
     * with their {@code ApproximateReceiveCount} and all message attributes.
     */
    public List<Message> receive(int max, Duration wait) {
        int count = Math.max(1, Math.min(MAX_ENTRIES, max));
        long seconds = wait == null ? 0 : Math.max(0, Math.min(20, wait.toSeconds()));
        return sqs.receiveMessage(b -> b.queueUrl(queueUrl)
                .maxNumberOfMessages(count)
                .waitTimeSeconds((int) seconds)
                .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)
                .messageAttributeNames("All")).messages();
    }

    /** Keeps {@code m} invisible to other consumers for {@code visibility} from now (a worker still on it). */
    public void hide(Message m, Duration visibility) {
        sqs.changeMessageVisibility(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle())
                .visibilityTimeout((int) Math.min(43_200, visibility.toSeconds())));
    }

    public void delete(Message m) {
        sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
    }

    /** A queue's {@code ApproximateNumberOfMessages} (visible messages), or why SQS could not say. */
    public record Depth(String queue, String url, Long messages, String error) {
    }

    /** The retry queue's depth, then the dead-letter queue's when one is configured; SQS errors are told, not thrown. */
    public List<Depth> depths() {
        return depths("RECLAIM_RETRY_QUEUE_URL", "RECLAIM_DLQ_URL");
    }

    /** This queue's depth and its dead-letter queue's, named by the variables that set them. */
    public List<Depth> depths(String queue, String deadLetterQueue) {
        Depth own = depth(queue, queueUrl);
        return deadLetterQueueUrl == null ? List.of(own) : List.of(own, depth(deadLetterQueue, deadLetterQueueUrl));
    }

    private Depth depth(String queue, String url) {
        try {
            String n = sqs.getQueueAttributes(b -> b.queueUrl(url)
                    .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)).attributes()
                    .get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES);
            return new Depth(queue, url, n == null ? null : Long.parseLong(n), null);
        } catch (SdkException e) {
            return new Depth(queue, url, null, e.getMessage());
        }
    }

    /** Requests of at most {@value #MAX_ENTRIES} entries and {@value #MAX_BYTES} bytes, in order. */
    private static List<List<Pending>> split(List<Pending> unsent) {
        List<List<Pending>> requests = new ArrayList<>();
        List<Pending> current = List.of();
        long bytes = 0;
        for (Pending p : unsent) {
            if (current.isEmpty() || current.size() == MAX_ENTRIES || bytes + p.size() > MAX_BYTES) {
                current = new ArrayList<>();
                requests.add(current);
                bytes = 0;
            }
            current.add(p);
            bytes += p.size();
        }
        return requests;
    }

    private static List<SendMessageBatchRequestEntry> entries(List<Pending> request) {
        return request.stream().map(p -> SendMessageBatchRequestEntry.builder()
                .id(p.entryId())
                .messageBody(p.message().body())
                .messageAttributes(attributes(p.message().retryCount(), p.message().sweep()))
                .build()).toList();
    }

    private static Map<String, MessageAttributeValue> attributes(int retryCount, String sweep) {
        Map<String, MessageAttributeValue> attrs = new LinkedHashMap<>();
        attrs.put(RETRY_COUNT, MessageAttributeValue.builder().dataType("Number")
                .stringValue(Integer.toString(retryCount)).build());
        if (sweep != null && !sweep.isBlank()) {
            attrs.put(SWEEP, string(sweep));
        }
        return attrs;
    }

    private static MessageAttributeValue string(String value) {
        return MessageAttributeValue.builder().dataType("String").stringValue(value).build();
    }

    /** What SQS counts against its size limit: the body and each attribute's name, type and value, in UTF-8. */
    static long size(OutgoingMessage m) {
        long bytes = utf8Length(m.body());
        for (Map.Entry<String, MessageAttributeValue> a : attributes(m.retryCount(), m.sweep()).entrySet()) {
            bytes += a.getKey().length() + a.getValue().dataType().length() + utf8Length(a.getValue().stringValue());
        }
        return bytes;
    }

    private static long utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** SQS takes no empty body. */
    private static String invalidBody(String body) {
        if (body.isEmpty()) {
            return "the body is empty";
        }
        Matcher refused = REFUSED_CHARACTER.matcher(body);
        return refused.find() ? String.format("the body holds a character SQS refuses (U+%04X at %d)",
                body.codePointAt(refused.start()), refused.start()) : null;
    }
}
