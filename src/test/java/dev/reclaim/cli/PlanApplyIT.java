package dev.reclaim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.report.Reports;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.ReferenceData;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.cloudinary.Asset;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code reclaim plan} writes every record and key a dry run would delete and every asset it keeps, with the reason;
 * {@code reclaim apply} deletes only what the plan holds and still passes every check, and refuses anything that is
 * not exactly a plan of this configuration. Through the CLI's entry point, against the local services.
 */
class PlanApplyIT {
    private static final Instant OLD = Instant.now().minus(Duration.ofDays(3));

    @TempDir
    Path dir;
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(20, 9);
    private StringWriter out;
    private StringWriter err;
    private List<String> orphanPhotos;
    private String referencedPhoto;

    @BeforeEach
    void setUp() throws Exception {
        orphanPhotos = List.of("users/u1/temp/a.jpg", "users/u1/temp/b c+%.jpg", "users/u2/temp/d.jpg");
        orphanPhotos.forEach(id -> fx.cloudinary.seed(Asset.image(id, OLD, 2_000 + id.length())));
        referencedPhoto = "users/u3/temp/saved.jpg";
        fx.cloudinary.seed(Asset.image(referencedPhoto, OLD, 500));
        reference(referencedPhoto);
        fx.cloudinary.seed(Asset.image("users/u1/temp/young.jpg", Instant.now(), 10));
        fx.cloudinary.seed(Asset.image("users/u1/avatar.jpg", OLD, 10));
    }

    private int cli(Map<String, String> env, String... args) {
        out = new StringWriter();
        err = new StringWriter();
        return ReclaimCli.execute(args, env, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private void reference(String publicId) throws Exception {
        String bobblehead = java.util.UUID.randomUUID().toString();
        fx.execute("INSERT INTO bobbleheads (id, user_id, name) VALUES ('" + bobblehead + "', gen_random_uuid(), 'Bob')");
        fx.execute("INSERT INTO bobblehead_photos (bobblehead_id, public_id) VALUES ('" + bobblehead + "', '"
                + publicId.replace("'", "''") + "')");
    }

    private static List<JsonNode> lines(Path plan) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(plan, StandardCharsets.UTF_8)) {
            lines.add(Reports.JSON.readTree(l));
        }
        return lines;
    }

    private static Set<String> values(List<JsonNode> lines, Predicate<JsonNode> which, String field) {
        return lines.stream().filter(which).map(l -> l.path(field).asText()).collect(Collectors.toSet());
    }

    private static Predicate<JsonNode> type(String type, String sweep) {
        return l -> l.path("type").asText().equals(type) && l.path("sweep").asText().equals(sweep);
    }

    @Test
    void shouldWriteEveryRecordAndKeyThatWouldGo_andEveryAssetKeptWithItsReason_deletingNothing() throws Exception {
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);
        Set<String> expiredMocs = Set.copyOf(fx.strings(
                "SELECT id::text FROM moc_instructions WHERE deleted_at < now() - interval '30 days'"));
        Path plan = dir.resolve("plan.jsonl");

        int code = cli(fx.env(), "plan", "--out", plan.toString());

        assertThat(code).as(err.toString()).isZero();
        List<JsonNode> lines = lines(plan);
        JsonNode header = lines.get(0);
        assertThat(header.path("type").asText()).isEqualTo("header");
        assertThat(header.path("format").asText()).isEqualTo("reclaim-plan");
        assertThat(header.path("version").asInt()).isEqualTo(1);
        assertThat(header.path("reclaim").asText()).startsWith("reclaim@");
        assertThat(header.path("configHash").asText()).matches("sha256:[0-9a-f]{64}");
        assertThat(Instant.parse(header.path("createdAt").asText())).isBefore(Instant.now());
        assertThat(header.path("sweeps")).hasSize(4);
        header.path("sweeps").forEach(s -> assertThat(Instant.parse(s.path("cutoff").asText())).isBefore(Instant.now()));

        assertThat(values(lines, type("record", "moc-purge"), "id")).isEqualTo(expiredMocs);
        assertThat(values(lines, type("record", "render-outputs"), "id")).hasSize(3);
        assertThat(values(lines, type("key", "moc-purge"), "key"))
                .isNotEmpty().allSatisfy(k -> assertThat(k).matches("(mocs|gallery)/.*"));
        List<JsonNode> photoKeys = lines.stream().filter(type("key", "bobblehead-temp-photos")).toList();
        assertThat(photoKeys).extracting(l -> l.path("key").asText()).containsExactlyInAnyOrderElementsOf(orphanPhotos);
        assertThat(photoKeys).allSatisfy(l -> assertThat(l.path("bytes").asLong()).isGreaterThan(2_000));
        Map<String, String> kept = lines.stream().filter(type("kept", "bobblehead-temp-photos"))
                .collect(Collectors.toMap(l -> l.path("key").asText(), l -> l.path("reason").asText()));
        assertThat(kept).containsEntry(referencedPhoto, "referenced")
                .containsEntry("users/u1/temp/young.jpg", "tooYoung")
                .containsEntry("users/u1/avatar.jpg", "outsideGlob");

        JsonNode end = lines.get(lines.size() - 1);
        assertThat(end.path("type").asText()).isEqualTo("end");
        assertThat(end.path("records").asLong()).isEqualTo(lines.stream().filter(l -> l.path("type").asText().equals("record")).count());
        assertThat(end.path("keys").asLong()).isEqualTo(lines.stream().filter(l -> l.path("type").asText().equals("key")).count());
        assertThat(ReferenceData.rowCounts(fx.db)).as("a plan deletes nothing").isEqualTo(rows);
        assertThat(orphanPhotos).allSatisfy(id -> assertThat(fx.cloudinary.exists(id)).isTrue());
        assertThat(out.toString()).contains("DRY RUN", "would purge " + expiredMocs.size()).doesNotContain("would purge 3 ");
        assertThat(err.toString()).contains("plan written to " + plan);
    }

    @Test
    void shouldWriteThePlan_whenARunIsADryRunWithPlan_andRefuseAPlanWithoutDryRun() throws Exception {
        Path plan = dir.resolve("run-plan.jsonl");

        assertThat(cli(fx.env(), "run", "--plan", plan.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--plan needs --dry-run");
        assertThat(plan).doesNotExist();

        assertThat(cli(fx.env(), "run", "--dry-run", "--plan", plan.toString(), "--sweep", "moc-purge")).isZero();
        List<JsonNode> lines = lines(plan);
        assertThat(lines.get(0).path("sweeps")).hasSize(1);
        assertThat(lines.stream().filter(l -> l.path("type").asText().equals("record"))).hasSize(6);
    }

    @Test
    void shouldDeleteOnlyWhatThePlanHoldsAndStillPassesEveryCheck() throws Exception {
        Path plan = dir.resolve("plan.jsonl");
        assertThat(cli(fx.env(), "plan", "--out", plan.toString())).isZero();
        // Since the plan: a MOC restored, a MOC newly expired, an orphan saved by its user, a new orphan uploaded.
        String restored = fx.strings("SELECT id::text FROM moc_instructions WHERE deleted_at < now() - interval '30 days' ORDER BY id LIMIT 1").get(0);
        fx.execute("UPDATE moc_instructions SET deleted_at = NULL WHERE id = '" + restored + "'");
        String newlyExpired = fx.strings("SELECT id::text FROM moc_instructions WHERE deleted_at IS NULL AND id <> '" + restored + "' LIMIT 1").get(0);
        fx.execute("UPDATE moc_instructions SET deleted_at = now() - interval '40 days' WHERE id = '" + newlyExpired + "'");
        reference(orphanPhotos.get(0));
        fx.cloudinary.seed(Asset.image("users/u9/temp/new.jpg", OLD, 100));

        int code = cli(fx.env(), "apply", plan.toString(), "--json");

        assertThat(code).as(err.toString()).isZero();
        JsonNode report = Reports.JSON.readTree(out.toString());
        assertThat(fx.strings("SELECT id::text FROM moc_instructions WHERE deleted_at < now() - interval '30 days'"))
                .as("only the newly expired MOC, which no plan held, is left").containsExactly(newlyExpired);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE id = '" + restored + "'")).isEqualTo(1);
        assertThat(fx.cloudinary.exists(orphanPhotos.get(0))).as("referenced since the plan").isTrue();
        assertThat(fx.cloudinary.exists(orphanPhotos.get(1))).isFalse();
        assertThat(fx.cloudinary.exists(orphanPhotos.get(2))).isFalse();
        assertThat(fx.cloudinary.exists("users/u9/temp/new.jpg")).as("not in the plan").isTrue();
        assertThat(fx.cloudinary.exists(referencedPhoto)).isTrue();

        JsonNode moc = report.path("sweeps").path("moc-purge");
        assertThat(moc.path("heldRecords").asLong()).isEqualTo(6);
        assertThat(moc.path("appliedRecords").asLong()).isEqualTo(5);
        assertThat(moc.path("skipped").path("noLongerEligible").asLong()).isEqualTo(1);
        JsonNode photos = report.path("sweeps").path("bobblehead-temp-photos");
        assertThat(photos.path("heldKeys").asLong()).isEqualTo(3);
        assertThat(photos.path("appliedKeys").asLong()).isEqualTo(2);
        assertThat(photos.path("skipped").path("referencedSince").asLong()).isEqualTo(1);
        assertThat(report.path("run").path("outcome").asText()).isEqualTo("completed");
        assertThat(report.path("run").path("trigger").asText()).startsWith("apply:");
        assertThat(fx.count("SELECT count(*) FROM reclaim.plan_entries")).as("the plan's rows leave with the run").isZero();
    }

    @Test
    void shouldSayWhatWasSkippedAndWhy_inTheSummary() throws Exception {
        Path plan = dir.resolve("plan.jsonl");
        assertThat(cli(fx.env(), "plan", "--out", plan.toString(), "--sweep", "bobblehead-temp-photos")).isZero();
        fx.cloudinary.clearAsset(orphanPhotos.get(2));

        assertThat(cli(fx.env(), "apply", plan.toString())).isZero();

        assertThat(out.toString()).contains("Applied plan " + plan, "plan sweep bobblehead-temp-photos: held 0 records, 3 keys; "
                + "applied 0 records, 2 keys; not applied: goneAlready 1");
    }

    /** Each way a file can fail to be this configuration's plan; apply refuses it with exit 2 and deletes nothing. */
    @ParameterizedTest
    @ValueSource(strings = {"otherConfiguration", "tooOld", "truncated", "notJson", "unknownVersion", "unknownField",
            "unknownSweep", "empty", "notAPlan", "lineAdded"})
    void shouldRefuseAndDeleteNothing_whenTheFileIsNotAPlanOfThisConfiguration(String defect) throws Exception {
        Path plan = dir.resolve("plan.jsonl");
        assertThat(cli(fx.env(), "plan", "--out", plan.toString())).isZero();
        List<String> lines = new ArrayList<>(Files.readAllLines(plan, StandardCharsets.UTF_8));
        Map<String, String> env = new HashMap<>(fx.env());
        List<String> args = new ArrayList<>(List.of("apply", plan.toString()));
        String says;
        switch (defect) {
            case "otherConfiguration" -> {
                env.put("RECLAIM_MOC_RETENTION", "20d");
                says = "was made under another configuration";
            }
            case "tooOld" -> {
                Thread.sleep(20);
                args.addAll(List.of("--max-age", "10ms"));
                says = "more than its maximum age";
            }
            case "truncated" -> {
                lines.remove(lines.size() - 1);
                says = "no end line: the file is truncated";
            }
            case "notJson" -> {
                lines.set(2, lines.get(2).substring(0, lines.get(2).length() - 3));
                says = "line 3: not JSON";
            }
            case "unknownVersion" -> {
                lines.set(0, lines.get(0).replace("\"version\":1", "\"version\":2"));
                says = "unknown plan version 2";
            }
            case "unknownField" -> {
                lines.set(2, lines.get(2).replace("{", "{\"force\":true,"));
                says = "line 3: unknown field 'force'";
            }
            case "unknownSweep" -> {
                lines.replaceAll(l -> l.replace("\"moc-purge\"", "\"moc-prune\""));
                says = "unknown sweep 'moc-prune'";
            }
            case "empty" -> {
                lines.clear();
                says = "the file is empty";
            }
            case "notAPlan" -> {
                lines.set(0, "{\"type\":\"header\",\"format\":\"something-else\"}");
                says = "not a Reclaim plan";
            }
            case "lineAdded" -> {
                lines.add(1, "{\"type\":\"key\",\"sweep\":\"upload-temp\",\"store\":\"moc-files\",\"key\":\"mocs/not-reviewed.pdf\"}");
                says = "lines were added or removed";
            }
            default -> throw new AssertionError(defect);
        }
        Files.write(plan, lines, StandardCharsets.UTF_8);
        Map<String, Long> rows = ReferenceData.rowCounts(fx.db);

        int code = cli(env, args.toArray(String[]::new));

        assertThat(code).as(out + "\n" + err).isEqualTo(2);
        assertThat(err.toString()).contains(says).contains("Nothing was run and nothing was deleted.");
        assertThat(ReferenceData.rowCounts(fx.db)).isEqualTo(rows);
        assertThat(orphanPhotos).allSatisfy(id -> assertThat(fx.cloudinary.exists(id)).isTrue());
        assertThat(TestS3.keys(fx.mocBucket)).isNotEmpty();
    }
}
