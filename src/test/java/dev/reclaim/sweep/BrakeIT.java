package dev.reclaim.sweep;

import dev.reclaim.testing.TestSettings;
import dev.reclaim.config.Settings;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.Reclaim;
import dev.reclaim.cli.ReclaimCli;
import dev.reclaim.config.AwsClients;
import dev.reclaim.observe.CloudWatchMetrics;
import dev.reclaim.observe.SentryReporter;
import dev.reclaim.report.Outcome;
import dev.reclaim.report.Reports;
import dev.reclaim.report.RunReport;
import dev.reclaim.report.SweepReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.SentryIngest;
import dev.reclaim.testing.TestCloudWatch;
import dev.reclaim.testing.cloudinary.Asset;
import io.sentry.Sentry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The brake: a run that looks nothing like its sweep's history stops that sweep before the delete that would go
 * past its limit (first runs, volume) or before a page whose references collapsed; the other sweeps go on, the run
 * is {@code held}, Sentry and CloudWatch hear it, {@code reclaim approve} lets the next run through once, a dry run
 * says it would hold, and a plan applied is its own approval.
 */
class BrakeIT {
    private static final String EXPIRED = "SELECT count(*) FROM moc_instructions WHERE deleted_at < now() - interval '30 days'";
    private static final Instant OLD = Instant.now().minus(Duration.ofDays(3));

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 9); // 6 expired MOCs, 3 eligible render jobs
    private String shipped;

    @BeforeEach
    void setUp() throws Exception {
        shipped = Files.readString(Path.of("config/reclaim.yaml"));
    }

    /** The shipped configuration with {@code brake} written under sweep {@code sweep}. */
    private String withBrake(String yaml, String sweep, String brake) {
        String head = "  " + sweep + ":\n";
        int at = yaml.indexOf(head);
        assertThat(at).as("sweep %s in the configuration", sweep).isPositive();
        return yaml.substring(0, at + head.length()) + "    brake: " + brake + "\n" + yaml.substring(at + head.length());
    }

    private static SweepReport sweep(RunReport r, String name) {
        return r.sweeps().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    private RunReport run(String yaml, boolean dryRun) {
        try (Reclaim reclaim = fx.reclaim(yaml)) {
            return reclaim.run(new RunRequest("test", dryRun, List.of(), null));
        }
    }

    private int cli(String yaml, StringWriter out, StringWriter err, String... args) throws Exception {
        Path config = Files.createTempFile("reclaim", ".yaml");
        Files.writeString(config, yaml);
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", config.toString()));
        return ReclaimCli.execute(all.toArray(String[]::new), fx.env(), new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void shouldHoldASweepAtItsFirstRunLimit_andLetTheOtherSweepsGoOn_exit3() throws Exception {
        String yaml = withBrake(shipped, "moc-purge", "{firstRunLimit: 4}");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = cli(yaml, out, err, "run", "--json");

        assertThat(code).as(err.toString()).isEqualTo(ReclaimCli.HELD);
        JsonNode report = Reports.JSON.readTree(out.toString());
        assertThat(report.path("outcome").asText()).isEqualTo("held");
        JsonNode moc = report.path("sweeps").path(0);
        assertThat(moc.path("purged").asLong()).as("stopped before the 5th").isEqualTo(4);
        assertThat(moc.path("stoppedBy").asText()).isEqualTo("brake");
        assertThat(moc.path("brake").asText()).contains("firstRuns", "limit of 4", "0 completed of 3");
        assertThat(report.path("sweeps").path(1).path("purged").asLong()).as("render-outputs goes on").isEqualTo(3);
        assertThat(fx.count(EXPIRED)).isEqualTo(2);
        assertThat(fx.strings("SELECT outcome FROM reclaim.runs")).containsExactly("held");
        assertThat(err.toString()).contains("held by the brake: moc-purge", "reclaim approve --sweep NAME");
    }

    @Test
    void shouldLetTheNextRunThroughOnce_whenApproved() throws Exception {
        String yaml = withBrake(shipped, "moc-purge", "{firstRunLimit: 2}");
        assertThat(run(yaml, false).outcome()).isEqualTo(Outcome.HELD);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        assertThat(cli(yaml, out, err, "approve", "--sweep", "moc-purge")).as(err.toString()).isZero();
        assertThat(out.toString()).contains("next run of sweep moc-purge goes past its brake once");
        RunReport approved = run(yaml, false);

        assertThat(approved.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(sweep(approved, "moc-purge").purged()).isEqualTo(4);
        assertThat(fx.count(EXPIRED)).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.approvals WHERE used_by_run = '" + approved.runId() + "'")).isEqualTo(1);

        fx.execute("UPDATE moc_instructions SET deleted_at = now() - interval '40 days' WHERE deleted_at IS NULL");
        assertThat(run(yaml, false).outcome()).as("an approval is used once").isEqualTo(Outcome.HELD);
    }

    @Test
    void shouldRefuseAnApproval_ofAnUnknownSweep() throws Exception {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        assertThat(cli(shipped, out, err, "approve", "--sweep", "moc-prune")).isEqualTo(ReclaimCli.USAGE);
        assertThat(err.toString()).contains("unknown sweep 'moc-prune'");
    }

    @Test
    void shouldHold_whenARunDeletesFarMoreThanTheMedianOfItsHistory() throws Exception {
        String yaml = withBrake(shipped, "moc-purge", "{minItems: 2, factor: 2, firstRunLimit: 1000}");
        fx.execute("UPDATE moc_instructions SET deleted_at = NULL"); // a quiet history: one MOC a run
        for (int i = 0; i < 3; i++) {
            fx.execute("UPDATE moc_instructions SET deleted_at = now() - interval '40 days' WHERE id = "
                    + "(SELECT id FROM moc_instructions WHERE deleted_at IS NULL ORDER BY id LIMIT 1)");
            assertThat(sweep(run(yaml, false), "moc-purge").purged()).isEqualTo(1);
        }
        fx.execute("UPDATE moc_instructions SET deleted_at = now() - interval '40 days' WHERE deleted_at IS NULL");
        long expired = fx.count(EXPIRED);

        RunReport dry = run(yaml, true);
        RunReport held = run(yaml, false);

        assertThat(dry.outcome()).as("a dry run only says so").isEqualTo(Outcome.COMPLETED);
        assertThat(sweep(dry, "moc-purge").purged()).isEqualTo(expired);
        assertThat(sweep(dry, "moc-purge").brake()).contains("volume", "limit of 2", "median 1 of the last 3");
        assertThat(Reports.summary(dry)).contains("the brake would hold the real run: volume");
        assertThat(Reports.JSON.valueToTree(dry).path("sweeps").path(0).path("brakeWouldHold").asText()).contains("volume");
        assertThat(held.outcome()).isEqualTo(Outcome.HELD);
        assertThat(sweep(held, "moc-purge").purged()).isEqualTo(2);
        assertThat(fx.count(EXPIRED)).isEqualTo(expired - 2);
        assertThat(Reports.summary(held)).contains("HELD by the brake: volume");
    }

    /** A history: three runs, each deleting 10 of 20 old temp photos and keeping the 10 referenced. */
    private void photoHistory() throws Exception {
        for (int run = 0; run < 3; run++) {
            String bobblehead = UUID.randomUUID().toString();
            fx.execute("INSERT INTO bobbleheads (id, user_id, name) VALUES ('" + bobblehead + "', gen_random_uuid(), 'Bob')");
            for (int i = 0; i < 20; i++) {
                String id = "users/h" + run + "/temp/p" + i;
                fx.cloudinary.seed(Asset.image(id, OLD, 100));
                if (i % 2 == 0) {
                    fx.execute("INSERT INTO bobblehead_photos (bobblehead_id, public_id) VALUES ('" + bobblehead + "', '" + id + "')");
                }
            }
            RunReport r = run(shipped, false);
            assertThat(sweep(r, "bobblehead-temp-photos").purged()).isEqualTo(10);
        }
    }

    @Test
    void shouldHoldBeforeDeletingAnything_whenAConfigEditBreaksTheReferenceQueries() throws Exception {
        photoHistory();
        List<String> saved = fx.strings("SELECT public_id FROM bobblehead_photos");
        // An edit that still prepares and returns text, but finds nothing: every saved photo looks orphaned.
        String broken = shipped.replace("SELECT public_id FROM bobblehead_photos WHERE public_id = ANY(:keys)",
                "SELECT public_id FROM bobblehead_photos WHERE public_id = ANY(:keys) AND bobblehead_id IS NULL");
        assertThat(broken).isNotEqualTo(shipped);
        for (int i = 0; i < 100; i++) {
            fx.cloudinary.seed(Asset.image("users/late/temp/p" + i, OLD, 100)); // a page of 100+ candidates
        }

        RunReport held;
        try (Reclaim reclaim = fx.reclaim(broken)) {
            held = reclaim.run(new RunRequest("test", false, List.of("bobblehead-temp-photos"), null));
        }

        assertThat(held.outcome()).isEqualTo(Outcome.HELD);
        assertThat(sweep(held, "bobblehead-temp-photos").brake()).contains("collapse");
        assertThat(saved).hasSize(30).allSatisfy(id -> assertThat(fx.cloudinary.exists(id)).as(id).isTrue());
    }

    @Test
    void shouldHoldBeforeDeletingAnything_whenABrokenReferenceQueryMakesEveryPhotoLookOrphaned() throws Exception {
        photoHistory();
        // Then an application change: a migration moves every saved photo to a table the reference queries do not
        // read, and users save 150 more there. Every photo now looks orphaned.
        List<String> saved = new ArrayList<>(fx.strings("SELECT public_id FROM bobblehead_photos"));
        for (int i = 0; i < 150; i++) {
            String id = "users/new/temp/p" + i;
            saved.add(id);
            fx.cloudinary.seed(Asset.image(id, OLD, 100));
        }
        fx.execute("CREATE TABLE bobblehead_photos_v2 (public_id text PRIMARY KEY)");
        fx.execute("INSERT INTO bobblehead_photos_v2 SELECT unnest(ARRAY['" + String.join("','", saved) + "'])");
        fx.execute("DELETE FROM bobblehead_photos");
        try (SentryIngest sentry = SentryIngest.start(); TestCloudWatch cloudWatch = TestCloudWatch.start()) {
            Map<String, String> env = new HashMap<>(fx.env());
            env.put("SENTRY_DSN", sentry.dsn());
            env.put("AWS_ENDPOINT_URL_CLOUDWATCH", cloudWatch.endpoint().toString());
            RunReport held;
            try (AwsClients aws = new AwsClients(TestSettings.of(env).aws()); Reclaim reclaim = fx.reclaim(shipped)) {
                SentryReporter.from(Settings.Sentry.from(env)).ifPresent(reclaim::listen);
                reclaim.listen(CloudWatchMetrics.from(TestSettings.of(env).metrics(), aws));
                held = reclaim.run(new RunRequest("test", false, List.of("bobblehead-temp-photos"), null));
                Sentry.flush(5_000);
            } finally {
                Sentry.close();
            }

            assertThat(held.outcome()).isEqualTo(Outcome.HELD);
            assertThat(sweep(held, "bobblehead-temp-photos").brake()).contains("collapse", "none of a page's 180",
                    "% referenced");
            assertThat(saved).hasSize(180).allSatisfy(id -> assertThat(fx.cloudinary.exists(id)).as(id).isTrue());
            List<JsonNode> events = sentry.await("event", e -> e.toString().contains("brakeHeld"), 1, Duration.ofSeconds(10));
            assertThat(events).hasSize(1);
            assertThat(cloudWatch.datums("SweepsHeld", Map.of())).singleElement()
                    .satisfies(d -> assertThat(d.value()).isEqualTo(1.0));
        }
    }

    @Test
    void shouldApplyAReviewedPlanPastTheFirstRunLimit_aPlanBeingItsOwnApproval() throws Exception {
        String yaml = withBrake(shipped, "moc-purge", "{firstRunLimit: 2}");
        Path plan = Files.createTempFile("plan", ".jsonl");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(cli(yaml, out, err, "plan", "--out", plan.toString(), "--sweep", "moc-purge")).as(err.toString()).isZero();
        assertThat(Files.readAllLines(plan).get(0)).contains("brakeWouldHold", "firstRuns");

        assertThat(cli(yaml, out, err, "apply", plan.toString())).as(err.toString()).isZero();

        assertThat(fx.count(EXPIRED)).isZero();
    }

    @Test
    void shouldNeverHold_whenTheBrakeIsOff() throws Exception {
        RunReport held = run(withBrake(shipped, "moc-purge", "{firstRunLimit: 2}"), true);
        RunReport off = run(withBrake(shipped, "moc-purge", "off"), false);

        assertThat(sweep(held, "moc-purge").brake()).as("the same run with a brake").contains("firstRuns");
        assertThat(off.outcome()).isEqualTo(Outcome.COMPLETED);
        assertThat(sweep(off, "moc-purge").brake()).isNull();
        assertThat(fx.count(EXPIRED)).isZero();
    }
}
