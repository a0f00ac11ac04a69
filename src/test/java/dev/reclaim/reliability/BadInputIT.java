package dev.reclaim.reliability;

import dev.reclaim.Reclaim;
import dev.reclaim.cli.ReclaimCli;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.reclaim.handler.RetryHandler;
import dev.reclaim.handler.ScheduledRunHandler;
import dev.reclaim.testing.FakeLambdaContext;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSqs;
import dev.reclaim.testing.TestSettings;
import dev.reclaim.testing.cloudinary.Asset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 21, item 4: every kind of bad input is a clear error naming what is wrong, AND nothing is deleted. One world
 * (MOCs, render jobs, temp uploads and photos, all eligible for something) is given each bad input in turn through
 * the real entry points, and after each the rows, the objects and the photos are compared with the world before.
 * Single cases elsewhere check one message each (ConfigLoaderTest, ReclaimCliIT, ScheduledRunHandlerIT, PlanApplyIT,
 * FanOutIT); this table adds the cases they lack and the "nothing deleted" half for all.
 */
class BadInputIT {
    private static final String SHIPPED = read("config/reclaim.yaml");
    private ReclaimFixture fx;
    private Map<String, Object> before;

    /** A configuration mistake: the shipped file with {@code from} replaced by {@code to}; the error names {@code says}. */
    record Mistake(String name, String from, String to, String says) {
    }

    static List<Mistake> configurationMistakes() {
        return List.of(
                new Mistake("unknown store in a sweep", "store: moc-files\n    prefix: uploads/tmp/", "store: moc-filez\n    prefix: uploads/tmp/", "moc-filez"),
                new Mistake("unknown store a step collects into", "collect: render-outputs", "collect: render-output", "render-output"),
                new Mistake("unknown store type", "type: cloudinary", "type: imgix", "imgix"),
                new Mistake("bad duration", "olderThan: ${RECLAIM_MOC_RETENTION:-30d}", "olderThan: 30 days", "sweeps.moc-purge.olderThan"),
                new Mistake("zero duration", "olderThan: ${RECLAIM_RENDER_RETENTION:-1h}", "olderThan: 0s", "sweeps.render-outputs.olderThan"),
                new Mistake("eligibility SQL that does not prepare", "SELECT id FROM moc_instructions\n      WHERE deleted_at IS NOT NULL AND deleted_at < :cutoff\n    # Locks",
                        "SELECT id FROM moc_instruction\n      WHERE deleted_at IS NOT NULL AND deleted_at < :cutoff\n    # Locks", "moc_instruction"),
                new Mistake("reference SQL that does not prepare", "SELECT output_key FROM render_jobs WHERE output_key = ANY(:keys)",
                        "SELECT output_key FROM render_job WHERE output_key = ANY(:keys)", "render_job"),
                new Mistake("a keep never used", "    steps:\n      - name: delete-job\n",
                        "    steps:\n      - name: look-up\n        sql: SELECT id FROM render_jobs WHERE id = :id\n        keep: neverUsed\n      - name: delete-job\n",
                        "'neverUsed' is used by no later step"),
                new Mistake("a kept name no step keeps", "WHERE gallery_image_id = ANY(:linkedImages)", "WHERE gallery_image_id = ANY(:linkedImagez)", "linkedImagez"),
                new Mistake("a step limited to neither :id nor a kept value", "sql: DELETE FROM render_jobs WHERE id = :id RETURNING output_key",
                        "sql: DELETE FROM render_jobs WHERE completed_at < :cutoff RETURNING output_key", "neither :id"),
                new Mistake("a glob matching everything", "match: uploads/tmp/**", "match: \"**\"", "no literal start"),
                new Mistake("a glob outside the sweep's prefix", "match: users/*/temp/**", "match: avatars/*/temp/**", "sweeps.bobblehead-temp-photos.match"),
                new Mistake("a prefix matching everything", "allowedPrefixes: [renders/]", "allowedPrefixes: [\"\"]", "empty prefix"),
                new Mistake("no allowed prefixes", "allowedPrefixes: [users/]", "allowedPrefixes: []", "stores.bobblehead-photos.allowedPrefixes"),
                new Mistake("an unknown field (a typo)", "    maxDeletesPerRun: ${RECLAIM_MOC_MAX_DELETES:-20000}\n", "    maxDeletesPerRun: ${RECLAIM_MOC_MAX_DELETES:-20000}\n    dryrun: true\n", "unknown field"),
                new Mistake("an unset variable", "${RECLAIM_RENDER_BUCKET:-render-outputs}", "${RECLAIM_NO_SUCH_BUCKET}", "RECLAIM_NO_SUCH_BUCKET"),
                new Mistake("a brake with a zero factor", "    maxDeletesPerRun: ${RECLAIM_UPLOAD_TEMP_MAX_DELETES:-100000}\n",
                        "    maxDeletesPerRun: ${RECLAIM_UPLOAD_TEMP_MAX_DELETES:-100000}\n    brake: {factor: 0}\n", "factor"),
                new Mistake("a sweep name that is not a word", "  upload-temp:\n    kind: assets", "  Upload_Temp:\n    kind: assets", "Upload_Temp"),
                new Mistake("a duplicate step name", "      - name: delete-orphaned-images", "      - name: delete-moc", "duplicate step name"),
                new Mistake("a records sweep without steps", "    steps:\n      - name: delete-job\n        sql: DELETE FROM render_jobs WHERE id = :id RETURNING output_key\n        collect: render-outputs\n        count: renderJobsDeleted\n",
                        "", "needs at least one step"),
                new Mistake("a boolean that is none", "pathStyle: ${RECLAIM_S3_PATH_STYLE:-false}\n    allowedPrefixes: [renders/]", "pathStyle: perhaps\n    allowedPrefixes: [renders/]", "perhaps"));
    }

    @BeforeEach
    void world() throws Exception {
        fx = ReclaimFixture.create();
        fx.sampleData(20, 9);
        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", "1ms");
        TestS3.putAll(fx.mocBucket, List.of("uploads/tmp/u1/abandoned.pdf", "uploads/tmp/u2/l'été 100%+.pdf"));
        List<Asset> photos = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            photos.add(Asset.image("users/u" + i % 3 + "/temp/p" + i, Instant.now().minus(Duration.ofDays(3)), 500));
        }
        fx.cloudinary.seed(photos);
        before = snapshot();
    }

    @AfterEach
    void close() {
        fx.close();
    }

    @AfterAll
    static void writeRecord() {
        ReliabilityRecord.SHARED.write();
    }

    @Test
    void everyConfigurationMistake_shouldBeAnErrorNamingIt_andDeleteNothing() throws Exception {
        Map<String, String> wrong = new LinkedHashMap<>();
        for (Mistake m : configurationMistakes()) {
            if (System.getProperty("reliability.mistake") != null && !m.name().contains(System.getProperty("reliability.mistake"))) {
                continue;
            }
            assertThat(SHIPPED).as(m.name()).contains(m.from());
            Path file = Files.createTempFile("reclaim-bad", ".yaml");
            Files.writeString(file, SHIPPED.replace(m.from(), m.to()));
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = ReclaimCli.execute(new String[] {"run", "--config", file.toString()}, fx.env(),
                    new PrintWriter(out, true), new PrintWriter(err, true));
            ReliabilityRecord.SHARED.add("bad inputs tried", 1);
            if (code != 2 || !err.toString().contains(m.says())) {
                wrong.put(m.name(), "exit " + code + ", stderr: " + err.toString().strip());
            }
            Map<String, Object> now = snapshot();
            if (!now.equals(before)) {
                wrong.put(m.name() + " (data)", "data changed: " + changes(before, now) + "; exit " + code + ", stderr: "
                        + err.toString().strip() + ", stdout: " + out.toString().strip());
                ReliabilityRecord.SHARED.add("violations", 1);
            }
            Files.delete(file);
        }
        ReliabilityRecord.SHARED.add("violations", wrong.size());
        assertThat(wrong).isEmpty();
    }

    @Test
    void everyMalformedScheduledPayload_shouldFailTheInvocationNamingIt_andDeleteNothing() throws Exception {
        // Each is JSON the handler must refuse, not read leniently: a typo of dryRun must never become a real run.
        Map<String, String> payloads = new LinkedHashMap<>();
        payloads.put("{\"dryrun\": true}", "dryrun");
        payloads.put("{\"dryRun\": \"maybe\"}", "dryRun");
        payloads.put("{\"sweeps\": [\"no-such-sweep\"]}", "no-such-sweep");
        payloads.put("{\"sweeps\": \"moc-purge\"}", "sweeps");
        payloads.put("{\"sweeps\": [\"moc-purge\", 7]}", "'7'");
        payloads.put("[{\"dryRun\": true}]", "");
        payloads.put("\"run\"", "");
        Map<String, String> wrong = new LinkedHashMap<>();
        try (Reclaim reclaim = fx.reclaim()) {
            ScheduledRunHandler handler = new ScheduledRunHandler(reclaim, TestSettings.of(Map.of()));
            for (Map.Entry<String, String> p : payloads.entrySet()) {
                ReliabilityRecord.SHARED.add("bad inputs tried", 1);
                ByteArrayOutputStream output = new ByteArrayOutputStream();
                String error = null;
                try {
                    handler.handleRequest(new ByteArrayInputStream(p.getKey().getBytes(StandardCharsets.UTF_8)), output,
                            new FakeLambdaContext("bad-input", 900_000));
                } catch (RuntimeException e) {
                    error = e.getMessage();
                }
                if (error == null || !error.contains(p.getValue())) {
                    wrong.put(p.getKey(), error == null ? "accepted, answered " + output.toString(StandardCharsets.UTF_8)
                            : "error does not name '" + p.getValue() + "': " + error);
                }
                if (!snapshot().equals(before)) {
                    wrong.put(p.getKey() + " (data)", "data changed");
                }
            }
        }
        ReliabilityRecord.SHARED.add("violations", wrong.size());
        assertThat(wrong).isEmpty();
    }

    /**
     * A retry-queue message that is wrong: {@code body}, and what must become of it: parked on the dead-letter queue
     * with a reason naming {@code says}, or ({@code says} null) failed alone, left for SQS to redeliver and, after 3
     * receives, park; or done without deleting anything (a message naming something still in use).
     */
    record BadMessage(String name, String body, Outcome outcome, String says) {
    }

    enum Outcome { PARKED, FAILED_ALONE, DONE_DELETING_NOTHING }

    private List<BadMessage> badMessages() throws Exception {
        String alive = fx.strings("SELECT id::text FROM moc_instructions WHERE deleted_at IS NULL ORDER BY id LIMIT 1").get(0);
        String liveKey = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id "
                + "WHERE m.deleted_at IS NULL ORDER BY 1 LIMIT 1").get(0);
        String tail = "\"errorClass\":\"x\",\"errorMessage\":\"x\",\"runId\":\"r\",\"correlationId\":\"c\","
                + "\"firstFailedAt\":\"2026-01-01T00:00:00Z\",\"retryCount\":0}";
        return List.of(
                new BadMessage("not JSON", "this is not json", Outcome.PARKED, "not a Reclaim failure message"),
                new BadMessage("the JSON null", "null", Outcome.PARKED, "not a Reclaim failure message"),
                new BadMessage("a JSON array", "[{\"kind\":\"record\"}]", Outcome.PARKED, "not a Reclaim failure message"),
                new BadMessage("an unknown field", "{\"sweep\":\"moc-purge\",\"kind\":\"record\",\"itemId\":\"" + alive
                        + "\",\"colour\":\"red\"," + tail, Outcome.PARKED, "colour"),
                new BadMessage("a retry count that is no number", "{\"sweep\":\"moc-purge\",\"kind\":\"record\",\"itemId\":\""
                        + alive + "\",\"retryCount\":\"three\"}", Outcome.PARKED, "three"),
                new BadMessage("a date that is no date", "{\"sweep\":\"moc-purge\",\"kind\":\"record\",\"itemId\":\""
                        + alive + "\",\"firstFailedAt\":\"yesterday\",\"retryCount\":0}", Outcome.PARKED, "yesterday"),
                new BadMessage("no kind", "{\"sweep\":\"moc-purge\",\"itemId\":\"" + alive + "\"," + tail,
                        Outcome.PARKED, "unknown kind 'null'"),
                new BadMessage("a record of no sweep", "{\"sweep\":\"moc-prune\",\"kind\":\"record\",\"itemId\":\"" + alive
                        + "\"," + tail, Outcome.PARKED, "no records sweep named 'moc-prune'"),
                new BadMessage("a record of an assets sweep", "{\"sweep\":\"upload-temp\",\"kind\":\"record\",\"itemId\":\""
                        + alive + "\"," + tail, Outcome.PARKED, "no records sweep named 'upload-temp'"),
                new BadMessage("a record without itemId", "{\"sweep\":\"moc-purge\",\"kind\":\"record\"," + tail,
                        Outcome.PARKED, "needs itemId"),
                new BadMessage("a record whose id is no id", "{\"sweep\":\"moc-purge\",\"kind\":\"record\",\"itemId\":"
                        + "\"1; DELETE FROM moc_instructions\"," + tail, Outcome.FAILED_ALONE, null),
                new BadMessage("a record of a live MOC", "{\"sweep\":\"moc-purge\",\"kind\":\"record\",\"itemId\":\"" + alive
                        + "\"," + tail, Outcome.DONE_DELETING_NOTHING, null),
                new BadMessage("assets without keys", "{\"sweep\":\"upload-temp\",\"kind\":\"asset\",\"store\":\"moc-files\","
                        + "\"keys\":[]," + tail, Outcome.PARKED, "needs store and keys"),
                new BadMessage("an asset outside the sweep's glob (a live MOC's file)", "{\"sweep\":\"upload-temp\",\"kind\":"
                        + "\"asset\",\"store\":\"moc-files\",\"keys\":[\"" + liveKey + "\"]," + tail, Outcome.PARKED,
                        "outside the glob of sweep upload-temp"),
                new BadMessage("a deletion from no store", "{\"kind\":\"deletion\",\"store\":\"moc-filez\",\"keys\":[\""
                        + liveKey + "\"]," + tail, Outcome.PARKED, "no store named 'moc-filez'"),
                new BadMessage("a deletion outside the store's prefixes", "{\"kind\":\"deletion\",\"store\":\"moc-files\","
                        + "\"keys\":[\"elsewhere/x.pdf\"]," + tail, Outcome.PARKED, "elsewhere/x.pdf"),
                new BadMessage("a deletion with a blank key", "{\"kind\":\"deletion\",\"store\":\"moc-files\",\"keys\":[\" \"],"
                        + tail, Outcome.PARKED, "needs store and keys"),
                new BadMessage("a deletion of a file a live MOC holds", "{\"kind\":\"deletion\",\"store\":\"moc-files\","
                        + "\"keys\":[\"" + liveKey + "\"]," + tail, Outcome.DONE_DELETING_NOTHING, null));
    }

    /** A message that must go through whatever its neighbours are: a deletion of an orphan file. */
    private static String neighbour(String key) {
        return "{\"kind\":\"deletion\",\"store\":\"moc-files\",\"keys\":[\"" + key + "\"],\"errorClass\":\"x\","
                + "\"errorMessage\":\"x\",\"runId\":\"r\",\"correlationId\":\"c\",\"firstFailedAt\":\"2026-01-01T00:00:00Z\","
                + "\"retryCount\":1}";
    }

    @Test
    void everyMalformedRetryMessage_shouldBeParkedWithItsReasonOrFailAlone_neverFailItsNeighbour_andDeleteNothing()
            throws Exception {
        TestSqs.QueuePair queues = TestSqs.retryQueues(fx.env(), "bad-retry", 3);
        List<BadMessage> bad = badMessages();
        Map<String, String> wrong = new LinkedHashMap<>();

        // The retry function: the bad messages in batches of up to 10 (SQS's), each with a good one in the middle.
        try (Reclaim reclaim = fx.reclaim()) {
            RetryHandler handler = new RetryHandler(reclaim.retryWorker(), false);
            for (int from = 0; from < bad.size(); from += 9) {
                List<BadMessage> part = bad.subList(from, Math.min(bad.size(), from + 9));
                String orphan = "mocs/orphans/handler-" + from + ".pdf";
                TestS3.put(fx.mocBucket, orphan);
                Map<String, Object> expected = snapshot();
                List<String> bodies = new ArrayList<>(part.stream().map(BadMessage::body).toList());
                bodies.add(part.size() / 2, neighbour(orphan));
                SQSBatchResponse response = handler.handleRequest(event(bodies), new FakeLambdaContext("bad-retry", 60_000));
                Set<String> failedAgain = new java.util.HashSet<>();
                response.getBatchItemFailures().forEach(f -> failedAgain.add(bodies.get(Integer.parseInt(f.getItemIdentifier()))));
                Map<String, String> parked = parked(queues, part.stream().filter(m -> m.outcome() == Outcome.PARKED).count());
                judge("retry function", part, failedAgain, parked, wrong);
                if (failedAgain.contains(neighbour(orphan)) || TestS3.exists(fx.mocBucket, orphan)) {
                    wrong.put("retry function: the good neighbour of " + part.get(0).name(), "failed with its batch");
                }
                expected.put("moc-files objects", withoutKey(expected.get("moc-files objects"), orphan));
                if (!snapshot().equals(expected)) {
                    wrong.put("retry function (data)", "changed: " + changes(expected, snapshot()));
                }
            }
        }

        // reclaim retry: the same messages on the queue, a good one among them; what fails again stays hidden while
        // the command runs, so it takes each message once.
        TestSqs.client().setQueueAttributes(b -> b.queueUrl(queues.queueUrl()).attributes(Map.of(
                software.amazon.awssdk.services.sqs.model.QueueAttributeName.VISIBILITY_TIMEOUT, "30")));
        String orphan = "mocs/orphans/cli.pdf";
        TestS3.put(fx.mocBucket, orphan);
        Map<String, Object> expected = snapshot();
        for (int i = 0; i < bad.size(); i++) {
            String body = i == bad.size() / 2 ? neighbour(orphan) : null;
            if (body != null) {
                TestSqs.client().sendMessage(b -> b.queueUrl(queues.queueUrl()).messageBody(neighbour(orphan)));
            }
            String b2 = bad.get(i).body();
            TestSqs.client().sendMessage(b -> b.queueUrl(queues.queueUrl()).messageBody(b2));
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ReclaimCli.execute(new String[] {"retry"}, fx.env(), new PrintWriter(out, true), new PrintWriter(err, true));
        long parkedCount = bad.stream().filter(m -> m.outcome() == Outcome.PARKED).count();
        long failedCount = bad.stream().filter(m -> m.outcome() == Outcome.FAILED_ALONE).count();
        String says = "Retried " + (bad.size() + 1) + " messages: done " + (bad.size() + 1 - parkedCount - failedCount)
                + ", failed again " + failedCount + " (left on the queue), dead-lettered " + parkedCount;
        if (code != 0 || !out.toString().contains(says)) {
            wrong.put("reclaim retry", "exit " + code + ", expected '" + says + "', said: " + out.toString().strip()
                    + " " + err.toString().strip());
        }
        // What failed again is hidden on the queue (30 s, set below), not parked: SQS redelivers it.
        int hidden = Integer.parseInt(TestSqs.client().getQueueAttributes(b -> b.queueUrl(queues.queueUrl())
                .attributeNamesWithStrings("ApproximateNumberOfMessagesNotVisible")).attributesAsStrings()
                .get("ApproximateNumberOfMessagesNotVisible"));
        if (hidden != failedCount) {
            wrong.put("reclaim retry: failed alone", hidden + " messages wait on the queue, expected " + failedCount);
        }
        Set<String> left = new java.util.HashSet<>(bad.stream().filter(m -> m.outcome() == Outcome.FAILED_ALONE)
                .map(BadMessage::body).toList()); // by the count above
        judge("reclaim retry", bad, left, parked(queues, parkedCount), wrong);
        if (TestS3.exists(fx.mocBucket, orphan)) {
            wrong.put("reclaim retry: the good neighbour", "its file is still there");
        }
        expected.put("moc-files objects", withoutKey(expected.get("moc-files objects"), orphan));
        if (!snapshot().equals(expected)) {
            wrong.put("reclaim retry (data)", "changed: " + changes(expected, snapshot()));
        }
        ReliabilityRecord.SHARED.add("bad inputs tried", 2L * bad.size());
        ReliabilityRecord.SHARED.add("violations", wrong.size());
        assertThat(wrong).isEmpty();
    }

    /** Compares what became of each message with what must. */
    private static void judge(String path, List<BadMessage> messages, Set<String> failedAgain, Map<String, String> parked,
                              Map<String, String> wrong) {
        for (BadMessage m : messages) {
            String reason = parked.get(m.body());
            boolean failed = failedAgain.contains(m.body());
            String got = reason != null ? "parked (" + reason + ")" : failed ? "failed again" : "done";
            boolean right = switch (m.outcome()) {
                case PARKED -> reason != null && reason.contains(m.says()) && !failed;
                case FAILED_ALONE -> failed && reason == null;
                case DONE_DELETING_NOTHING -> !failed && reason == null;
            };
            if (!right) {
                wrong.put(path + ": " + m.name(), "expected " + m.outcome() + (m.says() == null ? "" : " naming '" + m.says() + "'")
                        + ", got " + got);
            }
        }
    }

    /** The dead-letter queue's messages, body to reason, received and deleted. */
    private static Map<String, String> parked(TestSqs.QueuePair queues, long expected) {
        Map<String, String> out = new LinkedHashMap<>();
        for (var m : TestSqs.drain(queues.deadLetterQueueUrl(), (int) expected, Duration.ofSeconds(5))) {
            var reason = m.messageAttributes().get("reason");
            out.put(m.body(), reason == null ? "(no reason)" : reason.stringValue());
        }
        return out;
    }

    private static Set<Object> withoutKey(Object keys, String key) {
        Set<Object> out = new java.util.HashSet<>((Set<?>) keys);
        out.remove(key);
        return Set.copyOf(out);
    }

    private static SQSEvent event(List<String> bodies) {
        return TestSqs.event("", bodies);
    }

    private static Map<String, String> changes(Map<String, Object> before, Map<String, Object> now) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : before.keySet()) {
            if (!before.get(k).equals(now.get(k))) {
                if (before.get(k) instanceof Set<?> b && now.get(k) instanceof Set<?> n) {
                    Set<Object> gone = new java.util.TreeSet<>(b.stream().map(String::valueOf).toList());
                    n.forEach(x -> gone.remove(String.valueOf(x)));
                    out.put(k, "gone " + gone);
                } else {
                    out.put(k, before.get(k) + " -> " + now.get(k));
                }
            }
        }
        return out;
    }

    /** The rows of every reference table, the objects of both buckets, the photos. */
    private Map<String, Object> snapshot() throws Exception {
        Map<String, Object> s = new LinkedHashMap<>(ReferenceData.rowCounts(fx.db));
        s.put("moc-files objects", Set.copyOf(TestS3.keys(fx.mocBucket)));
        s.put("render-outputs objects", Set.copyOf(TestS3.keys(fx.renderBucket)));
        s.put("photos", Set.copyOf(fx.cloudinary.publicIds()));
        return s;
    }

    private static String read(String path) {
        try {
            return Files.readString(Path.of(path));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
