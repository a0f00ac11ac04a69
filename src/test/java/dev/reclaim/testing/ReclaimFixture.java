package dev.reclaim.testing;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.Reclaim;
import dev.reclaim.config.AwsClients;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.db.Database;
import dev.reclaim.failure.RetryQueue;
import dev.reclaim.outbox.Outbox;
import dev.reclaim.run.RunRequest;
import dev.reclaim.store.ApiStores;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One test's world: a fresh database with the reference schemas on the shared embedded PostgreSQL, fresh buckets on
 * the shared S3Mock, and the environment a deployment would set, pointing at both. An integration test class gets one
 * per test with {@code @RegisterExtension final ReclaimFixture fx = ReclaimFixture.perTest();}: it opens before the
 * class's own {@code @BeforeEach} methods and closes after its {@code @AfterEach} methods.
 */
public final class ReclaimFixture implements BeforeEachCallback, AfterEachCallback, AutoCloseable {
    // Set once when the world opens (create(), or before each test); read-only after that.
    public String jdbcUrl;
    public String mocBucket;
    public String renderBucket;
    public HikariDataSource db;
    /** A Cloudinary emulator of this test's own (the real Admin API's limits, errors and headers). */
    public CloudinaryEmulator cloudinary;
    private final Map<String, String> env = new HashMap<>();
    private int sampleMocs = -1;
    private int sampleRenderJobs;

    private ReclaimFixture() {
    }

    private void open() {
        jdbcUrl = TestPostgres.freshDatabase();
        mocBucket = TestS3.freshBucket("moc-instructions");
        renderBucket = TestS3.freshBucket("render-outputs");
        env.put("RECLAIM_DB_URL", jdbcUrl);
        env.put("RECLAIM_CONFIG", "config/reclaim.yaml");
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_ENDPOINT_URL_S3", TestS3.endpoint().toString());
        // metrics go to a local CloudWatch, never to AWS; a test that reads them points this at its own
        env.put("AWS_ENDPOINT_URL_CLOUDWATCH", TestCloudWatch.shared().endpoint().toString());
        env.put("AWS_ACCESS_KEY_ID", "test");
        env.put("AWS_SECRET_ACCESS_KEY", "test");
        env.put("RECLAIM_S3_PATH_STYLE", "true");
        env.put("RECLAIM_MOC_BUCKET", mocBucket);
        env.put("RECLAIM_RENDER_BUCKET", renderBucket);
        // The URL's name wins over the pool's: a fault that kills Reclaim's connections ('reclaim') spares the test's.
        db = Database.pool(TestSettings.of(Map.of("RECLAIM_DB_URL", jdbcUrl + "&ApplicationName=reclaim-fixture",
                "RECLAIM_DB_POOL_SIZE", "4")).database());
        cloudinary = CloudinaryEmulator.start();
        env.put("CLOUDINARY_URL", cloudinary.cloudinaryUrl());
    }

    /** A world opened now, for a test that closes it itself. */
    public static ReclaimFixture create() {
        ReclaimFixture fx = new ReclaimFixture();
        fx.open();
        return fx;
    }

    /** A world for each test of the class that registers it (see the class comment). */
    public static ReclaimFixture perTest() {
        return new ReclaimFixture();
    }

    /** Each test's world starts with {@link #sampleData} of this size, before the class's own set-up. */
    public ReclaimFixture withSampleData(int mocs, int renderJobs) {
        sampleMocs = mocs;
        sampleRenderJobs = renderJobs;
        return this;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        open();
        if (sampleMocs >= 0) {
            sampleData(sampleMocs, sampleRenderJobs);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    /** The environment a deployment would give Reclaim; tests may change it before building. */
    public Map<String, String> env() {
        return env;
    }

    /** Reclaim wired exactly as the entry points wire it, from {@link #env()}. */
    public Reclaim reclaim() {
        return Reclaim.from(RunRequest.settings(env));
    }

    /** Reclaim with a custom configuration text and the real stores and pool. */
    public Reclaim reclaim(String yaml) {
        ReclaimConfig config = ConfigLoader.parse("test.yaml", yaml, env);
        return wire(config, stores(config, env));
    }

    /** Reclaim with the shipped configuration and the given stores (e.g. real stores wrapped to observe calls). */
    public Reclaim reclaim(Stores stores) {
        return wire(ConfigLoader.load(Path.of(env.get("RECLAIM_CONFIG")), env), stores);
    }

    /** The same, with a retry queue (whose SQS client stays the caller's). */
    public Reclaim reclaim(Stores stores, RetryQueue queue) {
        HikariDataSource pool = Database.pool(TestSettings.of(env).database());
        return new Reclaim(ConfigLoader.load(Path.of(env.get("RECLAIM_CONFIG")), env), pool, stores, queue,
                Outbox.Policy.DEFAULT, pool, stores);
    }

    /** The stores of {@code config} on their own AWS clients, closed with them (as Reclaim builds them). */
    public static Stores stores(ReclaimConfig config, Map<String, String> env) {
        AwsClients aws = new AwsClients(TestSettings.of(env).aws());
        return new Stores(ApiStores.of(Stores.build(config, TestSettings.of(env), aws)), aws);
    }

    public ReclaimConfig config() {
        return ConfigLoader.load(Path.of(env.get("RECLAIM_CONFIG")), env);
    }

    private Reclaim wire(ReclaimConfig config, Stores stores) {
        HikariDataSource pool = Database.pool(TestSettings.of(env).database());
        return new Reclaim(config, pool, stores, null, Outbox.Policy.DEFAULT, pool, stores);
    }

    /** Generates reference rows and uploads every object they own. */
    public void sampleData(int mocs, int renderJobs) throws Exception {
        ReferenceData.generateMocs(db, mocs, 5);
        ReferenceData.generateRenderJobs(db, renderJobs);
        Map<String, List<String>> keys = ReferenceData.ownedKeys(db);
        TestS3.putAll(mocBucket, keys.get("moc-files"));
        TestS3.putAll(renderBucket, keys.get("render-outputs"));
    }

    public long count(String sql) throws Exception {
        return ReferenceData.count(db, sql);
    }

    public List<String> strings(String sql) throws Exception {
        return ReferenceData.strings(db, sql);
    }

    public void execute(String sql) throws Exception {
        try (var c = db.getConnection(); var st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** MOCs titled 'poison' cannot be deleted: their delete raises, as a broken application trigger would. */
    public void refuseToDeletePoisonMocs() throws Exception {
        execute("""
                CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF OLD.title = 'poison' THEN RAISE EXCEPTION 'refusing to delete poison MOC'; END IF;
                  RETURN OLD;
                END $$;
                CREATE TRIGGER refuse_poison BEFORE DELETE ON moc_instructions FOR EACH ROW EXECUTE FUNCTION refuse_poison();
                """);
    }

    /**
     * Terminates the backends {@code fromWhere} selects (a FROM ... WHERE giving {@code pid}), from a connection of
     * its own, as a failover or an idle timeout would; returns how many went.
     */
    public int terminateBackends(String fromWhere) {
        try (Connection c = DriverManager.getConnection(jdbcUrl + "&ApplicationName=backend-killer");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) " + fromWhere)) {
            rs.next();
            return rs.getInt(1);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (db != null) { // null when opening failed before the pool
            db.close();
        }
        if (cloudinary != null) {
            cloudinary.close();
        }
        if (jdbcUrl != null) {
            TestPostgres.drop(jdbcUrl);
        }
    }
}
