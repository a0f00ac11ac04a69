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
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.TestSettings;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.sql.Connection;
import java.sql.DriverManager;
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
final class Trial {
    /** Time passes between runs: a key that failed is tried again by the next run, not 15 minutes later. */
    private static final Outbox.Policy BETWEEN_RUNS = new Outbox.Policy(Duration.ZERO, Duration.ZERO, Duration.ofHours(24));
    static final int MAX_CONVERGENCE_RUNS = 6;

    final ReclaimFixture fx;
    final World world;
    final Set<Fault> faults;
    final Random random;
    final ReliabilityRecord record;
    final List<RunReport> reports = Collections.synchronizedList(new ArrayList<>());
    /** MOCs the application un-deleted mid-run: they must survive whole. */
    final Set<UUID> undeleted = ConcurrentHashMap.newKeySet();
    final Set<String> savedMidRun = ConcurrentHashMap.newKeySet();
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
        if (faults.contains(Fault.DB_ITEM_FAILS)) {
            List<String> expired = fx.strings("SELECT id::text FROM moc_instructions WHERE deleted_at < now() - interval '30 days' ORDER BY random()");
            for (String id : expired.subList(0, Math.min(2, expired.size()))) {
                fx.execute("UPDATE moc_instructions SET title = 'poison' WHERE id = '" + id + "'");
                record.fault(Fault.DB_ITEM_FAILS);
            }
            fx.refuseToDeletePoisonMocs();
        }
    }

    /** The runs under faults, then the cure, then the runs that must finish the work; returns the runs made. */
    int runAll(Runnable afterFaults) throws Exception {
        int runs = 0;
        int faultRuns = 1 + random.nextInt(2);
        for (int i = 0; i < faultRuns; i++) {
            if (faults.contains(Fault.CONCURRENT_RUN) && i == faultRuns - 1) {
                record.fault(Fault.CONCURRENT_RUN);
                CompletableFuture<Void> other = CompletableFuture.runAsync(this::runOnceUnchecked);
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
            if (Promises.workLeft(this) == 0) {
                break;
            }
        }
        return runs;
    }

    private Deadline deadline() {
        if (!faults.contains(Fault.TIME_BUDGET)) {
            return Deadline.none();
        }
        record.fault(Fault.TIME_BUDGET);
        return Deadline.after(Duration.ofMillis(150 + random.nextInt(900)));
    }

    private void cure() throws Exception {
        faulty.set(false);
        for (AutoCloseable r : refusals) {
            r.close();
        }
        refusals.clear();
        fx.cloudinary.clearScriptedFaults();
        if (faults.contains(Fault.DB_ITEM_FAILS)) {
            fx.execute("DROP TRIGGER refuse_poison ON moc_instructions");
        }
    }

    private void runOnceUnchecked() {
        try {
            runOnce(Deadline.none());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void runOnce(Deadline deadline) throws Exception {
        ReclaimConfig config = fx.config();
        Stores real = ReclaimFixture.stores(config, fx.env());
        Map<String, Store> wrapped = new LinkedHashMap<>(real.all());
        wrapped.put("moc-files", s3(real.get("moc-files")));
        wrapped.put("render-outputs", s3(real.get("render-outputs")));
        wrapped.put("bobblehead-photos", cloudinary(real.get("bobblehead-photos")));
        HikariDataSource pool = Database.pool(TestSettings.of(fx.env()).database());
        try (Reclaim reclaim = new Reclaim(config, pool, new Stores(wrapped, real), null, BETWEEN_RUNS, pool)) {
            reclaim.listen(this::onEvent);
            RunReport report = reclaim.run(new RunRequest("reliability", false, List.of(), deadline));
            reports.add(report);
            record.run(report.outcome().toString());
        }
    }

    private Store s3(Store real) {
        boolean unreachable = faults.contains(Fault.S3_UNREACHABLE);
        boolean slowDown = faults.contains(Fault.S3_SLOW_DOWN);
        return new ForwardingStore(real) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                strike();
                return super.delete(keys, deadline);
            }

            @Override
            public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
                strike();
                return super.list(prefix, createdBefore, cursor, deadline);
            }

            private void strike() {
                int call = s3Calls.getAndIncrement();
                if (!faulty.get() || !s3FaultCalls.contains(call)) {
                    return;
                }
                if (unreachable && (!slowDown || call % 2 == 0)) {
                    record.fault(Fault.S3_UNREACHABLE);
                    throw SdkClientException.create("Unable to execute HTTP request: Connection refused (injected)");
                }
                if (slowDown) {
                    record.fault(Fault.S3_SLOW_DOWN);
                    throw (S3Exception) S3Exception.builder().statusCode(503).message("Please reduce your request rate.")
                            .awsErrorDetails(AwsErrorDetails.builder().errorCode("SlowDown")
                                    .errorMessage("Please reduce your request rate.").build()).build();
                }
            }
        };
    }

    private Store cloudinary(Store real) {
        return new ForwardingStore(real) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                strike();
                return super.delete(keys, deadline);
            }

            @Override
            public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
                strike();
                return super.list(prefix, createdBefore, cursor, deadline);
            }

            private void strike() {
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
            }
        };
    }

    private void onEvent(RunEvent e) {
        if (!faulty.get()) {
            return;
        }
        if (e instanceof RunEvent.ItemPurged p) {
            int n = itemsPurged.incrementAndGet();
            if (faults.contains(Fault.ROW_UNDELETED) && p.sweep().equals("moc-purge") && undeleteDone.compareAndSet(false, true)) {
                undeleteOne();
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
