package dev.reclaim.reliability;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.db.Database;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.report.RunEvent;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.Deadline;
import dev.reclaim.run.RunRequest;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Listing;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.run.RetryWorker;
import dev.reclaim.testing.FailingSqs;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.S3Front;
import dev.reclaim.testing.TestSqs;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSettings;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

import java.sql.Connection;
import java.sql.DriverManager;
import java.net.URI;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One trial: a {@link World} written into fresh services, runs of every shipped sweep while the chosen {@link Fault}s
 * strike at random calls, then the faults cured and runs until nothing is left to do; every run's report kept, to be
 * compared with what {@link Promises} observes in the database and the stores.
 */
final class Trial implements AutoCloseable {
    /** Time passes between runs: a key that failed is tried again by the next run, not 15 minutes later. */
    private static final Outbox.Policy BETWEEN_RUNS = new Outbox.Policy(Duration.ZERO, Duration.ZERO, Duration.ofHours(24));
    static final int MAX_CONVERGENCE_RUNS = 6;
    /** Issue 21: a run stops within 5 s of its time budget. */
    private static final Duration BUDGET_SLACK = Duration.ofSeconds(5);

    final ReclaimFixture fx;
    final World world;
    final Set<Fault> faults;
    final Random random;
    final ReliabilityRecord record;
    final List<RunReport> reports = Collections.synchronizedList(new ArrayList<>());
    /** MOCs the application un-deleted mid-run: they must survive whole. */
    final Set<UUID> undeleted = ConcurrentHashMap.newKeySet();
    final Set<String> savedMidRun = ConcurrentHashMap.newKeySet();
    /** What the retry passes did (their events, which the retry metrics publish): promise 5 adds them to the reports'. */
    final Map<String, Long> retried = new ConcurrentHashMap<>();
    /** Broken promises a fault's own check found as it struck (e.g. a store called with the database unreachable). */
    final List<String> faultViolations = Collections.synchronizedList(new ArrayList<>());
    private final S3Front front;
    private final TestSqs.QueuePair queues;
    private final List<FailingSqs> failingSqs = new ArrayList<>();
    private volatile boolean inRetryPass;
    private volatile Deadline current = Deadline.none();
    private final AtomicBoolean lockKillDone = new AtomicBoolean();
    private final AtomicBoolean workKillDone = new AtomicBoolean();
    private final AtomicBoolean midDrainDone = new AtomicBoolean();
    private int faultRun;
    private final AtomicBoolean faulty = new AtomicBoolean(true);
    private final Set<Integer> s3FaultCalls = new HashSet<>();
    private final Set<Integer> cloudinaryFaultCalls = new HashSet<>();
    private final AtomicInteger s3Calls = new AtomicInteger();
    private final AtomicInteger cloudinaryCalls = new AtomicInteger();
    private final AtomicInteger itemsPurged = new AtomicInteger();
    private final int killAtItem;
    private final List<AutoCloseable> refusals = new ArrayList<>();
    private final AtomicBoolean undeleteDone = new AtomicBoolean();
    private final AtomicBoolean saveDone = new AtomicBoolean();
    private final AtomicBoolean killDone = new AtomicBoolean();

    Trial(ReclaimFixture fx, World world, Set<Fault> faults, long seed, ReliabilityRecord record) {
        this.fx = fx;
        this.world = world;
        this.faults = faults;
        this.random = new Random(seed);
        this.record = record;
        for (int i = 0; i < 3; i++) {
            s3FaultCalls.add(random.nextInt(8));
            cloudinaryFaultCalls.add(random.nextInt(6));
        }
        killAtItem = 1 + random.nextInt(Math.max(1, world.mocs.size() / 3));
        boolean throughFront = faults.contains(Fault.S3_SLOW_DOWN) || faults.contains(Fault.S3_MALFORMED)
                || faults.contains(Fault.S3_HANGS);
        front = throughFront ? S3Front.before(TestS3.endpoint(), "test") : null;
        queues = faults.contains(Fault.RETRY_QUEUE_UNREACHABLE) || faults.contains(Fault.RETRY_QUEUE_FAILED_ENTRIES)
                ? TestSqs.createQueuePair("reliability-retry", 3) : null;
    }

    /** Prepares the environment, writes the world and arms the faults that act on the data. */
    void setUp() throws Exception {
        fx.env().put("RECLAIM_CLOUDINARY_RETRY_DELAY", "10ms");
        fx.env().put("RECLAIM_CLOUDINARY_TIMEOUT", "1s");
        fx.env().put("RECLAIM_UPLOAD_TEMP_RETENTION", world.uploadTempOld ? "1ms" : "1h");
        fx.cloudinary.setTimeoutHold(Duration.ofMillis(1300));
        world.write(fx);
        if (faults.contains(Fault.S3_KEY_REFUSED)) {
            List<String> candidates = fx.strings("SELECT f.s3_key FROM moc_files f JOIN moc_instructions m ON m.id = f.moc_id "
                    + "WHERE m.deleted_at < now() - interval '30 days' UNION SELECT thumbnail_key FROM moc_instructions "
                    + "WHERE deleted_at < now() - interval '30 days' AND thumbnail_key LIKE 'mocs/%'");
            candidates = new ArrayList<>(candidates);
            candidates.addAll(world.tempUploads.keySet());
            Collections.shuffle(candidates, random);
            for (String key : candidates.subList(0, Math.min(3, candidates.size()))) {
                if (TestS3.exists(fx.mocBucket, key)) {
                    refusals.add(TestS3.blockDeletion(fx.mocBucket, key));
                    record.fault(Fault.S3_KEY_REFUSED);
                }
            }
        }
        if (faults.contains(Fault.DB_ITEM_FAILS) || queues != null) {
            // With a retry queue, at least one item must fail, or the queue's faults would strike nothing.
            int n = faults.contains(Fault.DB_ITEM_FAILS) ? 2 : 1;
            List<String> expired = fx.strings("SELECT id::text FROM moc_instructions WHERE deleted_at < now() - interval '30 days' "
                    + "AND (thumbnail_key IS NULL OR thumbnail_key NOT LIKE 'legacy/%') ORDER BY random()");
            for (String id : expired.subList(0, Math.min(n, expired.size()))) {
                fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = '" + id + "'");
                if (faults.contains(Fault.DB_ITEM_FAILS)) {
                    record.fault(Fault.DB_ITEM_FAILS);
                }
            }
            fx.refuseToDeletePoisonMocs();
        }
        if (front != null) {
            fx.env().put("AWS_ENDPOINT_URL_S3", front.endpoint().toString()); // Reclaim's stores only; checks go direct
            if (faults.contains(Fault.S3_SLOW_DOWN)) {
                front.refusing(random.nextInt(6), 1 + random.nextInt(6), null, null, 503, "SlowDown",
                        "Please reduce your request rate.");
            }
            if (faults.contains(Fault.S3_MALFORMED)) {
                front.refusing(random.nextInt(3), 1 + random.nextInt(3), "POST", "delete", 400, "MalformedXML",
                        "The XML you provided was not well-formed or did not validate against our published schema");
            }
            if (faults.contains(Fault.S3_HANGS)) {
                // Deletes or listings, not the set-up's GetBucketVersioning: a run without a budget gives that a minute
                // (one with a budget, its budget: RunControlIT), which would make a trial last minutes.
                boolean deletes = random.nextBoolean();
                front.hangingAfter(deletes ? "POST" : "GET", deletes ? "delete" : "list-type", random.nextInt(4));
            }
        }
    }

    /** The runs under faults, then the cure, then the runs that must finish the work; returns the runs made. */
    int runAll(Runnable afterFaults) throws Exception {
        int runs = 0;
        if (faults.contains(Fault.DB_UNREACHABLE_AT_START)) {
            runWithoutTheDatabase();
            runs++;
        }
        int faultRuns = 1 + random.nextInt(2);
        for (int i = 0; i < faultRuns; i++) {
            faultRun = i;
            if (faults.contains(Fault.CONCURRENT_RUN) && i == faultRuns - 1) {
                record.fault(Fault.CONCURRENT_RUN);
                Deadline otherDeadline = deadline();
                CompletableFuture<Void> other = CompletableFuture.runAsync(() -> runOnceUnchecked(otherDeadline));
                runOnce(deadline());
                other.join();
                runs += 2;
            } else {
                runOnce(deadline());
                runs++;
            }
        }
        afterFaults.run();
        cure();
        for (int i = 0; i < MAX_CONVERGENCE_RUNS; i++) {
            runOnce(Deadline.none());
            runs++;
            retryPass();
            if (Promises.workLeft(this) == 0) {
                break;
            }
        }
        return runs;
    }

    /** A run under faults ends within its budget: the shortest any chosen fault asks for, or none. */
    private Deadline deadline() {
        Duration budget = null;
        if (faults.contains(Fault.TIME_BUDGET)) {
            record.fault(Fault.TIME_BUDGET);
            budget = Duration.ofMillis(150 + random.nextInt(900));
        }
        if (faults.contains(Fault.S3_HANGS) || faults.contains(Fault.TIME_BUDGET_MID_DRAIN)) {
            // A hanging S3 would otherwise hold a call for the 30 s socket timeout, each SDK attempt.
            Duration other = Duration.ofMillis(2000 + random.nextInt(2000));
            budget = budget == null || other.compareTo(budget) < 0 ? other : budget;
        }
        return budget == null ? Deadline.none() : Deadline.after(budget);
    }

    /**
     * A run with the database unreachable (a closed port) fails at start, naming the database, and calls no store:
     * without its lock nothing may be listed or deleted. Its report is not a trial's report (it did nothing).
     */
    private void runWithoutTheDatabase() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(fx.env());
        env.put("RECLAIM_DB_URL", "jdbc:postgresql://127.0.0.1:1/reclaim?connectTimeout=1");
        env.put("RECLAIM_DB_CONNECT_TIMEOUT", "1s");
        int s3Before = s3Calls.get();
        int cloudinaryBefore = cloudinaryCalls.get();
        RunReport report;
        try (Reclaim reclaim = reclaim(env, true)) {
            report = reclaim.run(new RunRequest("reliability", false, List.of(), Deadline.none()));
        }
        record.fault(Fault.DB_UNREACHABLE_AT_START);
        record.run(report.outcome().toString());
        if (report.outcome() != dev.reclaim.report.Outcome.FAILED || report.reason() == null
                || !report.reason().contains("database")) {
            faultViolations.add("bad input: a run with the database unreachable ended " + report.outcome() + " ("
                    + report.reason() + "), not failed naming the database");
        }
        if (s3Calls.get() != s3Before || cloudinaryCalls.get() != cloudinaryBefore) {
            faultViolations.add("1 nothing deleted without the lock: a run with the database unreachable called the stores ("
                    + (s3Calls.get() - s3Before) + " S3, " + (cloudinaryCalls.get() - cloudinaryBefore) + " Cloudinary)");
        }
    }

    /**
     * The retry function's work, once the faults are over: every message on the retry queue is retried once, as
     * {@code reclaim retry} does (deleted unless it failed again; SQS moves one received 3 times to the DLQ).
     */
    private void retryPass() throws Exception {
        if (queues == null) {
            return;
        }
        Thread.sleep(1100); // the queue's visibility timeout: a message that failed again comes back
        inRetryPass = true;
        try (Reclaim reclaim = reclaim(fx.env(), false)) {
            RetryQueue queue = reclaim.retryQueue();
            RetryWorker worker = reclaim.retryWorker();
            for (List<Message> batch = queue.receive(10, Duration.ZERO); !batch.isEmpty(); batch = queue.receive(10, Duration.ZERO)) {
                for (Message m : batch) {
                    int receives = Integer.parseInt(m.attributesAsStrings().getOrDefault("ApproximateReceiveCount", "1"));
                    if (worker.process(m.messageId(), m.body(), receives, false) != RetryWorker.Result.FAILED_AGAIN) {
                        queue.delete(m);
                    }
                    record.add("retry messages processed", 1);
                }
            }
        } finally {
            inRetryPass = false;
        }
    }

    private void cure() throws Exception {
        faulty.set(false);
        for (AutoCloseable r : refusals) {
            r.close();
        }
        refusals.clear();
        fx.cloudinary.clearScriptedFaults();
        if (faults.contains(Fault.DB_ITEM_FAILS) || queues != null) {
            fx.execute("DROP TRIGGER refuse_poison ON moc_instructions");
        }
        if (front != null) {
            front.answering();
            if (front.served("SlowDown") > 0) {
                record.add("faults injected: " + Fault.S3_SLOW_DOWN.name(), front.served("SlowDown"));
                record.add("faults injected (all kinds)", front.served("SlowDown"));
            }
            if (front.served("MalformedXML") > 0) {
                record.add("faults injected: " + Fault.S3_MALFORMED.name(), front.served("MalformedXML"));
                record.add("faults injected (all kinds)", front.served("MalformedXML"));
            }
            if (front.served("hang") > 0) {
                record.add("faults injected: " + Fault.S3_HANGS.name(), front.served("hang"));
                record.add("faults injected (all kinds)", front.served("hang"));
            }
        }
        int failedEntries = failingSqs.stream().mapToInt(FailingSqs::entriesFailed).sum();
        if (failedEntries > 0) {
            record.add("faults injected: " + Fault.RETRY_QUEUE_FAILED_ENTRIES.name(), failedEntries);
            record.add("faults injected (all kinds)", failedEntries);
        }
    }

    @Override
    public void close() {
        if (front != null) {
            front.close();
        }
    }

    private void runOnceUnchecked(Deadline deadline) {
        try {
            runOnce(deadline);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void runOnce(Deadline deadline) throws Exception {
        current = deadline;
        try (Reclaim reclaim = reclaim(fx.env(), faulty.get())) {
            RunReport report = reclaim.run(new RunRequest("reliability", false, List.of(), deadline));
            Instant ended = Instant.now();
            reports.add(report);
            record.run(report.outcome().toString());
            if (deadline.at() != null && ended.isAfter(deadline.at().plus(BUDGET_SLACK))) {
                faultViolations.add("4 runs stop within their budget: a run ended " + Duration.between(deadline.at(), ended)
                        .toMillis() + " ms after its deadline (faults " + faults + ")");
            }
            if (faulty.get() && faults.contains(Fault.RETRY_QUEUE_UNREACHABLE) && report.failures() != null
                    && report.failures().pending() > 0 && report.failures().sent() == 0 && sqsUnreachableNow()) {
                record.fault(Fault.RETRY_QUEUE_UNREACHABLE);
            }
        }
    }

    /** Whether the runs under faults reach SQS through a closed port (else through {@link FailingSqs}). */
    private boolean sqsUnreachableNow() {
        boolean both = faults.contains(Fault.RETRY_QUEUE_UNREACHABLE) && faults.contains(Fault.RETRY_QUEUE_FAILED_ENTRIES);
        return faults.contains(Fault.RETRY_QUEUE_UNREACHABLE) && (!both || faultRun % 2 == 0);
    }

    /** Reclaim on {@code env}'s database, its stores wrapped to strike, and the trial's retry queue if it has one. */
    private Reclaim reclaim(Map<String, String> env, boolean underFaults) {
        ReclaimConfig config = fx.config();
        Stores real = ReclaimFixture.stores(config, env);
        Map<String, Store> wrapped = new LinkedHashMap<>(real.all());
        wrapped.put("moc-files", s3(real.get("moc-files")));
        wrapped.put("render-outputs", s3(real.get("render-outputs")));
        wrapped.put("bobblehead-photos", cloudinary(real.get("bobblehead-photos")));
        HikariDataSource pool = Database.pool(TestSettings.of(env).database());
        List<AutoCloseable> owned = new ArrayList<>(List.of(pool));
        RetryQueue queue = null;
        if (queues != null) {
            SqsClient sqs = TestSqs.client();
            if (underFaults && sqsUnreachableNow()) {
                sqs = SqsClient.builder().endpointOverride(URI.create("http://127.0.0.1:1")).region(Region.US_EAST_1)
                        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                        .httpClient(UrlConnectionHttpClient.create()).build();
                owned.add(sqs);
            } else if (underFaults) {
                FailingSqs failing = new FailingSqs(sqs, e -> true, Integer.MAX_VALUE, "InternalError", false);
                failingSqs.add(failing);
                sqs = failing;
            }
            queue = new RetryQueue(sqs, queues.queueUrl(), queues.deadLetterQueueUrl());
        }
        Reclaim reclaim = new Reclaim(config, pool, new Stores(wrapped, real), queue, BETWEEN_RUNS,
                owned.toArray(AutoCloseable[]::new));
        reclaim.listen(this::onEvent);
        return reclaim;
    }

    private Store s3(Store real) {
        boolean unreachable = faults.contains(Fault.S3_UNREACHABLE);
        return striking(real, () -> {
            int call = s3Calls.getAndIncrement();
            if (!faulty.get() || !s3FaultCalls.contains(call)) {
                return;
            }
            if (unreachable) {
                record.fault(Fault.S3_UNREACHABLE);
                throw SdkClientException.create("Unable to execute HTTP request: Connection refused (injected)");
            }
        });
    }

    private Store cloudinary(Store real) {
        return striking(real, () -> {
            int call = cloudinaryCalls.getAndIncrement();
            if (!faulty.get() || !cloudinaryFaultCalls.contains(call)) {
                return;
            }
            List<Fault> kinds = new ArrayList<>();
            for (Fault f : List.of(Fault.CLOUDINARY_5XX, Fault.CLOUDINARY_420, Fault.CLOUDINARY_TIMEOUT)) {
                if (faults.contains(f)) {
                    kinds.add(f);
                }
            }
            if (kinds.isEmpty()) {
                return;
            }
            Fault kind = kinds.get(call % kinds.size());
            record.fault(kind);
            switch (kind) {
                case CLOUDINARY_5XX -> fx.cloudinary.failNext(1 + random.nextInt(4), List.of(500, 502, 503).get(call % 3));
                case CLOUDINARY_420 -> fx.cloudinary.failNext(1 + random.nextInt(2), 420);
                default -> fx.cloudinary.timeoutNext(1);
            }
        });
    }

    /** The real store, {@code strike} (a fault, maybe) called before each of its delete and list calls. */
    private static Store striking(Store real, Runnable strike) {
        return new ForwardingStore(real) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                strike.run();
                return super.delete(keys, deadline);
            }

            @Override
            public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
                strike.run();
                return super.list(prefix, createdBefore, cursor, deadline);
            }
        };
    }

    private void onEvent(RunEvent e) {
        if (inRetryPass) {
            tallyRetry(e);
            return;
        }
        if (!faulty.get()) {
            return;
        }
        if ((e instanceof RunEvent.KeysDeleted d && d.source() == RunEvent.Source.OUTBOX
                || e instanceof RunEvent.KeysFailed f && f.source() == RunEvent.Source.OUTBOX)
                && faults.contains(Fault.TIME_BUDGET_MID_DRAIN) && midDrainDone.compareAndSet(false, true)) {
            budgetEndsNow();
        }
        if (e instanceof RunEvent.ItemPurged p) {
            int n = itemsPurged.incrementAndGet();
            if (faults.contains(Fault.ROW_UNDELETED) && p.sweep().equals("moc-purge") && undeleteDone.compareAndSet(false, true)) {
                undeleteOne();
            }
            if (faults.contains(Fault.LOCK_CONNECTION_KILLED) && n >= killAtItem && lockKillDone.compareAndSet(false, true)) {
                if (fx.terminateBackends("FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
                        + "(SELECT oid FROM pg_database WHERE datname = current_database())") > 0) {
                    record.fault(Fault.LOCK_CONNECTION_KILLED);
                }
            }
            if (faults.contains(Fault.WORK_CONNECTION_KILLED) && n >= killAtItem && workKillDone.compareAndSet(false, true)) {
                if (fx.terminateBackends("FROM pg_stat_activity WHERE application_name = 'reclaim' AND datname = current_database() "
                        + "AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)") > 0) {
                    record.fault(Fault.WORK_CONNECTION_KILLED);
                }
            }
            if (faults.contains(Fault.CONNECTIONS_KILLED) && n >= killAtItem && killDone.compareAndSet(false, true)) {
                int killed = fx.terminateBackends("FROM pg_stat_activity WHERE application_name = 'reclaim' AND datname = current_database()");
                if (killed > 0) {
                    record.fault(Fault.CONNECTIONS_KILLED);
                }
            }
        }
        if (e instanceof RunEvent.PageListed l && "bobblehead-temp-photos".equals(l.sweep())
                && faults.contains(Fault.PHOTO_SAVED) && saveDone.compareAndSet(false, true)) {
            saveOne();
        }
    }

    /**
     * The run's budget runs out while the outbox drains: the drain (on its own thread) is held after its first batch
     * until the deadline has passed, so it must stop there and leave the rest to the next run.
     */
    private void budgetEndsNow() {
        Instant at = current.at();
        if (at == null || !Instant.now().isBefore(at)) {
            return; // no budget, or it ran out before the drain: plain TIME_BUDGET
        }
        try {
            Thread.sleep(Duration.between(Instant.now(), at).toMillis() + 20);
            record.fault(Fault.TIME_BUDGET_MID_DRAIN);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    /** What a retry pass did, counted as the report counts a run's events (RunTally). */
    private void tallyRetry(RunEvent e) {
        if (e instanceof RunEvent.ItemPurged p) {
            retried.merge(p.sweep(), 1L, Long::sum);
        } else if (e instanceof RunEvent.KeysDeleted d && d.source() == RunEvent.Source.SWEEP) {
            retried.merge(d.sweep(), (long) d.keys().size(), Long::sum);
        } else if (e instanceof RunEvent.KeysDeleted d) {
            retried.merge("outbox:" + d.store(), (long) d.keys().size(), Long::sum);
        }
    }

    /** The application restores a MOC Reclaim has listed and not yet purged (from its own connection). */
    private void undeleteOne() {
        List<World.Moc> expired = world.mocs.stream().filter(m -> m.state() == World.MocState.EXPIRED).toList();
        if (expired.isEmpty()) {
            return;
        }
        World.Moc m = expired.get(random.nextInt(expired.size()));
        try (Connection c = DriverManager.getConnection(fx.jdbcUrl + "&ApplicationName=application");
             PreparedStatement ps = c.prepareStatement("UPDATE moc_instructions SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL")) {
            c.createStatement().execute("SET lock_timeout = '5s'");
            ps.setObject(1, m.id());
            if (ps.executeUpdate() == 1) {
                undeleted.add(m.id());
                record.fault(Fault.ROW_UNDELETED);
            }
        } catch (Exception ignored) {
            // the MOC is being purged right now (locked): it is gone, which the promises then check
        }
    }

    /** The application saves an old temp photo into a bobblehead while the sweep pages. */
    private void saveOne() {
        List<World.Photo> old = world.photos.stream()
                .filter(p -> !p.referenced() && p.createdAt().isBefore(Instant.now().minus(Duration.ofHours(25))))
                .filter(p -> fx.cloudinary.exists(p.publicId())).toList();
        if (old.isEmpty()) {
            return;
        }
        World.Photo p = old.get(random.nextInt(old.size()));
        try (Connection c = DriverManager.getConnection(fx.jdbcUrl + "&ApplicationName=application")) {
            World.savePhoto(c, p.publicId());
            savedMidRun.add(p.publicId());
            record.fault(Fault.PHOTO_SAVED);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
