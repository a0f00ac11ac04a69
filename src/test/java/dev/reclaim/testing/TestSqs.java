package dev.reclaim.testing;

import org.elasticmq.Limit;
import org.elasticmq.LimitedValue;
import org.elasticmq.Limits;
import org.elasticmq.RangeLimit;
import org.elasticmq.StrictSQSLimits$;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real SQS-protocol server (ElasticMQ) in this JVM on 127.0.0.1, started once; each test uses queues of its own.
 * Its limits are SQS's strict ones, except that a message, and a SendMessageBatch, may carry 1 MiB as in SQS today
 * (ElasticMQ still enforces the former 256 KiB, and counts only bodies, in characters, against it).
 */
public final class TestSqs {
    public static final String REGION = "us-east-1";
    public static final int MAX_MESSAGE_BYTES = 1_048_576;
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static SQSRestServer server;
    private static URI endpoint;
    private static SqsClient client;

    /** A source queue and the dead-letter queue its redrive policy points to. */
    public record QueuePair(String queueUrl, String deadLetterQueueUrl) {
    }

    private TestSqs() {
    }

    public static synchronized URI endpoint() {
        if (server == null) {
            quietLogging();
            SQSRestServer started = SQSRestServerBuilder
                    .withInterface("127.0.0.1")
                    .withDynamicPort()
                    .withAWSRegion(REGION)
                    .withSQSLimits(new CurrentSqsLimits())
                    .start();
            int port = started.waitUntilStarted().localAddress().getPort();
            server = started;
            endpoint = URI.create("http://127.0.0.1:" + port);
            Runtime.getRuntime().addShutdownHook(new Thread(started::stopAndWait));
        }
        return endpoint;
    }

    /** A client for test set-up and assertions (the code under test may build its own from {@link #environment()}). */
    public static synchronized SqsClient client() {
        if (client == null) {
            client = SqsClient.builder()
                    .endpointOverride(endpoint())
                    .region(Region.of(REGION))
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                    .httpClient(UrlConnectionHttpClient.create())
                    .build();
        }
        return client;
    }

    /** The variables that point {@code RetryQueue.configured} at this server. */
    public static Map<String, String> environment() {
        Map<String, String> env = new HashMap<>();
        env.put("AWS_REGION", REGION);
        env.put("AWS_ENDPOINT_URL_SQS", endpoint().toString());
        env.put("AWS_ACCESS_KEY_ID", "test");
        env.put("AWS_SECRET_ACCESS_KEY", "test");
        return env;
    }

    /** A new, empty queue with a unique name. */
    public static String freshQueue(String prefix) {
        String name = prefix + "-" + COUNTER.incrementAndGet();
        return client().createQueue(b -> b.queueName(name)).queueUrl();
    }

    /**
     * A new dead-letter queue and a new source queue whose real RedrivePolicy moves a message there once it has been
     * received {@code maxReceiveCount} times without being deleted. The source queue's VisibilityTimeout is 1 second,
     * so a test can receive the same message again quickly.
     */
    public static QueuePair createQueuePair(String name, int maxReceiveCount) {
        String unique = name + "-" + COUNTER.incrementAndGet();
        String dlqUrl = client().createQueue(b -> b.queueName(unique + "-dlq")).queueUrl();
        String dlqArn = client().getQueueAttributes(b -> b.queueUrl(dlqUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                .attributes().get(QueueAttributeName.QUEUE_ARN);
        String redrive = "{\"deadLetterTargetArn\":\"" + dlqArn + "\",\"maxReceiveCount\":" + maxReceiveCount + "}";
        String queueUrl = client().createQueue(b -> b.queueName(unique).attributes(Map.of(
                QueueAttributeName.REDRIVE_POLICY, redrive,
                QueueAttributeName.VISIBILITY_TIMEOUT, "1"))).queueUrl();
        return new QueuePair(queueUrl, dlqUrl);
    }

    /**
     * A new queue pair ({@link #createQueuePair}) that {@code env} now points Reclaim at, as a deployment with a retry
     * queue and a dead-letter queue sets it.
     */
    public static QueuePair retryQueues(Map<String, String> env, String name, int maxReceiveCount) {
        QueuePair queues = createQueuePair(name, maxReceiveCount);
        env.putAll(environment());
        env.put("RECLAIM_RETRY_QUEUE_URL", queues.queueUrl());
        env.put("RECLAIM_DLQ_URL", queues.deadLetterQueueUrl());
        return queues;
    }

    /**
     * The SQS event Lambda hands a function polling a queue: one record a body, ids {@code idPrefix} and its index,
     * each received once.
     */
    public static com.amazonaws.services.lambda.runtime.events.SQSEvent event(String idPrefix, List<String> bodies) {
        List<com.amazonaws.services.lambda.runtime.events.SQSEvent.SQSMessage> records = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i++) {
            var m = new com.amazonaws.services.lambda.runtime.events.SQSEvent.SQSMessage();
            m.setMessageId(idPrefix + i);
            m.setBody(bodies.get(i));
            m.setAttributes(Map.of("ApproximateReceiveCount", "1"));
            records.add(m);
        }
        var e = new com.amazonaws.services.lambda.runtime.events.SQSEvent();
        e.setRecords(records);
        return e;
    }

    /**
     * A new work queue pair as the template makes it (hidden longer than a worker takes, parked after
     * {@link dev.reclaim.run.ShardWork#MAX_RECEIVES} receives) that {@code env} now points Reclaim at.
     */
    public static QueuePair workQueues(Map<String, String> env, String name) {
        QueuePair work = createQueuePair(name, dev.reclaim.run.ShardWork.MAX_RECEIVES);
        client().setQueueAttributes(b -> b.queueUrl(work.queueUrl())
                .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "60")));
        env.putAll(environment());
        env.put("RECLAIM_WORK_QUEUE_URL", work.queueUrl());
        env.put("RECLAIM_WORK_DLQ_URL", work.deadLetterQueueUrl());
        return work;
    }

    /**
     * Receives and deletes messages until {@code expected} have arrived and the queue answers empty (so extra copies
     * show), or until {@code timeout} passes; with their receive count and all message attributes.
     */
    public static List<Message> drain(String queueUrl, int expected, Duration timeout) {
        List<Message> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean enough = out.size() >= expected;
            List<Message> batch = receive(queueUrl, enough ? 0 : 1);
            for (Message m : batch) {
                client().deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
            }
            out.addAll(batch);
            if (batch.isEmpty() && (enough || System.nanoTime() > deadline)) {
                return out;
            }
        }
    }

    /** One ReceiveMessage of up to 10 messages, long-polling up to {@code waitSeconds}, without deleting. */
    public static List<Message> receive(String queueUrl, int waitSeconds) {
        return client().receiveMessage(b -> b.queueUrl(queueUrl)
                .maxNumberOfMessages(10)
                .waitTimeSeconds(waitSeconds)
                .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)
                .messageAttributeNames("All")).messages();
    }

    public static int approximateCount(String queueUrl) {
        return Integer.parseInt(client().getQueueAttributes(b -> b.queueUrl(queueUrl)
                        .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                .attributes().get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES));
    }

    /** ElasticMQ (Pekko) logs at DEBUG through SLF4J; the project's test logging is WARN already, keep it so. */
    private static void quietLogging() {
        if (org.slf4j.LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext ctx) {
            ctx.getLogger("org.apache.pekko").setLevel(ch.qos.logback.classic.Level.WARN);
            ctx.getLogger("org.elasticmq").setLevel(ch.qos.logback.classic.Level.WARN);
            // Stopping the server from a JVM shutdown hook makes Pekko warn that it cannot add its own hook.
            ctx.getLogger("org.apache.pekko.actor.CoordinatedShutdown").setLevel(ch.qos.logback.classic.Level.ERROR);
        }
    }

    /** SQS's strict limits with today's 1 MiB message (and batch) size. */
    private static final class CurrentSqsLimits implements Limits {
        private static final Limits STRICT = StrictSQSLimits$.MODULE$;

        @Override
        public Limit<Object> queueNameLengthLimit() {
            return STRICT.queueNameLengthLimit();
        }

        @Override
        public Limit<Object> batchSizeLimit() {
            return STRICT.batchSizeLimit();
        }

        @Override
        public Limit<RangeLimit<Object>> numberOfMessagesLimit() {
            return STRICT.numberOfMessagesLimit();
        }

        @Override
        public Limit<Object> nonEmptyAttributesLimit() {
            return STRICT.nonEmptyAttributesLimit();
        }

        @Override
        public Limit<scala.collection.immutable.List<RangeLimit<Object>>> bodyValidCharactersLimit() {
            return STRICT.bodyValidCharactersLimit();
        }

        @Override
        public Limit<RangeLimit<scala.math.BigDecimal>> numberAttributeValueLimit() {
            return STRICT.numberAttributeValueLimit();
        }

        @Override
        public Limit<RangeLimit<Object>> messageWaitTimeLimit() {
            return STRICT.messageWaitTimeLimit();
        }

        @Override
        public Limit<Object> maxMessageLength() {
            return new LimitedValue<>(MAX_MESSAGE_BYTES);
        }

        @Override
        public Limit<Object> messageAttributesLimit() {
            return STRICT.messageAttributesLimit();
        }
    }
}
