package dev.reclaim.failure;

import dev.reclaim.config.AwsEnvironment;
import dev.reclaim.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

import java.net.URI;
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
public final class RetryQueue implements AutoCloseable {
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
    private static final int MAX_DELAY_SECONDS = 900;
    private static final int MAX_REASON_CHARS = 1024;
    private static final Pattern REGIONAL_HOST = Pattern.compile("^sqs[.-]([a-z0-9-]+)\\.amazonaws\\.com(\\.cn)?$");
    private static final Logger log = LoggerFactory.getLogger(RetryQueue.class);

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
        static Outcome accepted(String id, String messageId) {
            return new Outcome(id, true, messageId, null, null, false);
        }

        static Outcome refused(String id, String code, String message, boolean senderFault) {
            return new Outcome(id, false, null, code, code + ": " + message, senderFault);
        }
    }

    private final SqsClient sqs;
    private final String queueUrl;
    private final String deadLetterQueueUrl;
    private final boolean ownsClient;

    /** A queue on the given client, which stays the caller's to close. {@code deadLetterQueueUrl} may be null. */
    public RetryQueue(SqsClient sqs, String queueUrl, String deadLetterQueueUrl) {
        this(sqs, queueUrl, deadLetterQueueUrl, false);
    }

    private RetryQueue(SqsClient sqs, String queueUrl, String deadLetterQueueUrl, boolean ownsClient) {
        this.sqs = Objects.requireNonNull(sqs, "sqs");
        this.queueUrl = Objects.requireNonNull(queueUrl, "queueUrl");
        this.deadLetterQueueUrl = blankToNull(deadLetterQueueUrl);
        this.ownsClient = ownsClient;
    }

    /**
     * The retry queue named by {@code RECLAIM_RETRY_QUEUE_URL} (null when unset), its dead-letter queue by
     * {@code RECLAIM_DLQ_URL}. Region from {@code AWS_REGION} (or {@code AWS_DEFAULT_REGION}, or the queue URL's host);
     * endpoint from {@code AWS_ENDPOINT_URL_SQS} or {@code AWS_ENDPOINT_URL}; keys from the map when present, else the
     * SDK's default chain. {@code http} stays the caller's to close (null: the SDK's default HTTP client).
     */
    public static RetryQueue fromEnvironment(Map<String, String> env, SdkHttpClient http) {
        String queueUrl = blankToNull(env.get("RECLAIM_RETRY_QUEUE_URL"));
        if (queueUrl == null) {
            return null;
        }
        URI queueUri;
        try {
            queueUri = URI.create(queueUrl);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("RECLAIM_RETRY_QUEUE_URL: '" + queueUrl + "' is not a URL");
        }
        String region = AwsEnvironment.firstSet(AwsEnvironment.region(env), regionOf(queueUri));
        if (region == null) {
            throw new ConfigException("RECLAIM_RETRY_QUEUE_URL: no AWS region: set AWS_REGION (Lambda sets it)");
        }
        SqsClientBuilder b = SqsClient.builder()
                .region(Region.of(region))
                .credentialsProvider(AwsEnvironment.credentials(env));
        if (http != null) {
            b.httpClient(http);
        }
        String endpoint = AwsEnvironment.endpoint(env, "SQS");
        if (endpoint != null) {
            try {
                b.endpointOverride(URI.create(endpoint));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("AWS_ENDPOINT_URL_SQS: '" + endpoint + "' is not a URL");
            }
        }
        return new RetryQueue(b.build(), queueUrl, env.get("RECLAIM_DLQ_URL"), true);
    }

    public String queueUrl() {
        return queueUrl;
    }

    public String deadLetterQueueUrl() {
        return deadLetterQueueUrl;
    }

    /**
     * Sends the messages with SendMessageBatch; one outcome per message, in the same order. Never throws for SQS's
     * sake: when SQS cannot be reached, every message not yet accepted comes back refused.
     */
    public List<Outcome> send(List<OutgoingMessage> messages) {
        int n = messages.size();
        Outcome[] outcomes = new Outcome[n];
        long[] sizes = new long[n];
        List<Integer> pending = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            OutgoingMessage m = messages.get(i);
            sizes[i] = size(m);
            String invalid = invalidBody(m.body());
            if (invalid != null) {
                outcomes[i] = Outcome.refused(m.id(), "InvalidMessageContents", invalid, true);
            } else if (sizes[i] > MAX_BYTES) {
                outcomes[i] = Outcome.refused(m.id(), "MessageTooLong",
                        "message of " + sizes[i] + " bytes (body and attributes); SQS takes at most " + MAX_BYTES, true);
            } else {
                pending.add(i);
            }
        }
        String[] lastError = new String[n];
        String[] lastCode = new String[n];
        for (int round = 1; round <= MAX_ROUNDS && !pending.isEmpty(); round++) {
            if (round > 1 && !pause(RESEND_PAUSE.multipliedBy(round - 1))) {
                break;
            }
            List<Integer> again = new ArrayList<>();
            List<List<Integer>> requests = split(pending, sizes);
            for (int r = 0; r < requests.size(); r++) {
                List<Integer> request = requests.get(r);
                SendMessageBatchResponse answer;
                try {
                    answer = sqs.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries(request, messages)));
                } catch (AwsServiceException e) {
                    // The whole request was refused (the SDK has already retried throttling and 5xx answers).
                    String code = e.awsErrorDetails() == null ? "HTTP " + e.statusCode() : e.awsErrorDetails().errorCode();
                    for (int i : request) {
                        outcomes[i] = Outcome.refused(messages.get(i).id(), code, e.getMessage(), e.statusCode() < 500);
                    }
                    continue;
                } catch (SdkException e) {
                    // SQS cannot be reached (or its answer cannot be read): stop, everything not accepted waits.
                    log.warn("retry queue unreachable: {}", e.toString());
                    List<Integer> unsent = new ArrayList<>(again);
                    for (int rest = r; rest < requests.size(); rest++) {
                        unsent.addAll(requests.get(rest));
                    }
                    for (int i : unsent) {
                        outcomes[i] = Outcome.refused(messages.get(i).id(), "Unreachable", e.toString(), false);
                    }
                    return Arrays.asList(outcomes);
                }
                for (SendMessageBatchResultEntry ok : answer.successful()) {
                    int i = indexOf(ok.id());
                    outcomes[i] = Outcome.accepted(messages.get(i).id(), ok.messageId());
                }
                for (BatchResultErrorEntry failed : answer.failed()) {
                    int i = indexOf(failed.id());
                    if (Boolean.TRUE.equals(failed.senderFault())) {
                        outcomes[i] = Outcome.refused(messages.get(i).id(), failed.code(), failed.message(), true);
                    } else {
                        lastCode[i] = failed.code();
                        lastError[i] = failed.message();
                        again.add(i);
                    }
                }
                for (int i : request) {
                    if (outcomes[i] == null && !again.contains(i)) {
                        lastCode[i] = "MissingResult";
                        lastError[i] = "SQS answered without a result for this entry";
                        again.add(i);
                    }
                }
            }
            if (!again.isEmpty()) {
                log.info("retry queue: {} entries failed transiently in round {}", again.size(), round);
            }
            pending = again;
        }
        for (int i : pending) {
            outcomes[i] = Outcome.refused(messages.get(i).id(), lastCode[i] == null ? "NotSent" : lastCode[i],
                    lastError[i] == null ? "not sent" : lastError[i], false);
        }
        return Arrays.asList(outcomes);
    }

    /** Puts a message back on the retry queue, unchanged, visible again after {@code delay} (at most 15 minutes). */
    public String requeue(String body, int retryCount, String sweep, Duration delay) {
        long seconds = delay == null ? 0 : Math.max(0, Math.min(MAX_DELAY_SECONDS, delay.toSeconds()));
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
        if (attributes != null) {
            attributes.forEach((k, v) -> {
                if (k != null && !k.isBlank() && v != null && !v.isBlank() && !REASON.equals(k)) {
                    attrs.put(k, string(v));
                }
            });
        }
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

    public void delete(Message m) {
        sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
    }

    /** Closes the SQS client when this queue built it ({@link #fromEnvironment}); never the HTTP client. */
    @Override
    public void close() {
        if (ownsClient) {
            sqs.close();
        }
    }

    /** Requests of at most {@value #MAX_ENTRIES} entries and {@value #MAX_BYTES} bytes, in order. */
    private static List<List<Integer>> split(List<Integer> pending, long[] sizes) {
        List<List<Integer>> requests = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        long bytes = 0;
        for (int i : pending) {
            if (!current.isEmpty() && (current.size() == MAX_ENTRIES || bytes + sizes[i] > MAX_BYTES)) {
                requests.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(i);
            bytes += sizes[i];
        }
        if (!current.isEmpty()) {
            requests.add(current);
        }
        return requests;
    }

    /** Entry ids are the messages' positions in the list given to {@link #send}: unique within any request. */
    private static List<SendMessageBatchRequestEntry> entries(List<Integer> request, List<OutgoingMessage> messages) {
        List<SendMessageBatchRequestEntry> entries = new ArrayList<>(request.size());
        for (int i : request) {
            OutgoingMessage m = messages.get(i);
            entries.add(SendMessageBatchRequestEntry.builder()
                    .id("m" + i)
                    .messageBody(m.body())
                    .messageAttributes(attributes(m.retryCount(), m.sweep()))
                    .build());
        }
        return entries;
    }

    private static int indexOf(String entryId) {
        return Integer.parseInt(entryId.substring(1));
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
        bytes += RETRY_COUNT.length() + "Number".length() + Integer.toString(m.retryCount()).length();
        if (m.sweep() != null && !m.sweep().isBlank()) {
            bytes += SWEEP.length() + "String".length() + utf8Length(m.sweep());
        }
        return bytes;
    }

    private static long utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    /** SQS takes #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF, and no empty body. */
    private static String invalidBody(String body) {
        if (body.isEmpty()) {
            return "the body is empty";
        }
        for (int i = 0; i < body.length(); ) {
            int cp = body.codePointAt(i);
            boolean ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF)
                    || (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
            if (!ok) {
                return String.format("the body holds a character SQS refuses (U+%04X at %d)", cp, i);
            }
            i += Character.charCount(cp);
        }
        return null;
    }

    private static boolean pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** sqs.eu-west-1.amazonaws.com/123456789012/name: the region, else null. */
    private static String regionOf(URI queueUrl) {
        if (queueUrl.getHost() == null) {
            return null;
        }
        Matcher m = REGIONAL_HOST.matcher(queueUrl.getHost());
        return m.matches() ? m.group(1) : null;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
