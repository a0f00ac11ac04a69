package dev.reclaim.sweep;

import dev.reclaim.report.SweepReport;
import dev.reclaim.Reclaim;
import dev.reclaim.cli.ReclaimCli;
import dev.reclaim.report.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.cloudinary.Asset;
import dev.reclaim.testing.cloudinary.CloudinaryEmulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 8: the bobblehead temp-photo sweep on accounts in either folder mode. In dynamic mode a photo's folder is apart
 * from its public id: it is listed through the Search API by folder, judged by its folder and display name, and
 * referenced and deleted by its public id.
 */
class CloudinaryFolderModesIT {
    private static final Instant OLD = Instant.now().minus(Duration.ofDays(3));
    private static final Instant YOUNG = Instant.now().minus(Duration.ofHours(1));

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();

    private RunReport run(Reclaim reclaim) {
        try (reclaim) {
            return reclaim.run(new RunRequest("test", false, List.of("bobblehead-temp-photos"), null));
        }
    }

    private void referenced(String publicId) throws Exception {
        fx.execute("INSERT INTO bobbleheads (id, user_id, name) VALUES ('00000000-0000-0000-0000-00000000b0b1', "
                + "gen_random_uuid(), 'saved') ON CONFLICT DO NOTHING");
        fx.execute("INSERT INTO bobblehead_photos (bobblehead_id, public_id) VALUES "
                + "('00000000-0000-0000-0000-00000000b0b1', '" + publicId + "')");
    }

    @Test
    void dynamicMode_shouldDeleteAPathlessOrphanInATempFolder_andKeepSavedReferencedAndYoungPhotos() throws Exception {
        fx.cloudinary.setFolderMode(CloudinaryEmulator.FolderMode.DYNAMIC);
        fx.cloudinary.seed(
                Asset.dynamic("k3x9qz7abc", "users/u1/temp", "front", OLD, 1000),     // orphan: goes
                Asset.dynamic("p8d7photo1", "users/u1/photos", "saved", OLD, 1000),   // not a temp folder
                Asset.dynamic("r5referenced", "users/u2/temp", "side", OLD, 1000),    // a saved bobblehead uses it
                Asset.dynamic("y0young", "users/u2/temp", "new", YOUNG, 1000));       // younger than 24h
        referenced("r5referenced");

        RunReport report = run(fx.reclaim());

        SweepReport s = report.sweeps().get(0);
        assertThat(report.folderModes()).containsEntry("bobblehead-photos", "dynamic");
        assertThat(fx.cloudinary.exists("k3x9qz7abc")).isFalse();
        assertThat(fx.cloudinary.exists("p8d7photo1")).isTrue();
        assertThat(fx.cloudinary.exists("r5referenced")).isTrue();
        assertThat(fx.cloudinary.exists("y0young")).isTrue();
        assertThat(s.purged()).isEqualTo(1);
        assertThat(s.referenced()).isEqualTo(1);
        assertThat(s.scanned()).as("the young photo is not even listed").isEqualTo(3);
        assertThat(fx.cloudinary.searchCalls()).isPositive();
        assertThat(fx.cloudinary.listCalls()).as("every listing call was a search").isEqualTo(fx.cloudinary.searchCalls());
    }

    @Test
    void dynamicMode_shouldNeverTouchAPhotoMovedOutOfItsTempFolder_whosePublicIdStillSaysTemp() {
        fx.cloudinary.setFolderMode(CloudinaryEmulator.FolderMode.DYNAMIC);
        // Uploaded to users/u1/temp, then moved in the Media Library: the public id keeps the old path.
        fx.cloudinary.seed(Asset.dynamic("users/u1/temp/p1", "users/u1/photos", "p1", OLD, 1000));

        RunReport report = run(fx.reclaim());

        assertThat(fx.cloudinary.exists("users/u1/temp/p1")).isTrue();
        assertThat(report.sweeps().get(0).purged()).isZero();
    }

    @Test
    void dynamicMode_shouldHoldThePrefixGuardOnThePath() throws Exception {
        fx.cloudinary.setFolderMode(CloudinaryEmulator.FolderMode.DYNAMIC);
        fx.cloudinary.seed(
                Asset.dynamic("a1", "users/u1/temp", "x", OLD, 1000),
                Asset.dynamic("a2", "users/u2/temp", "y", OLD, 1000));
        String yaml = Files.readString(Path.of("config/reclaim.yaml"))
                .replace("allowedPrefixes: [users/]", "allowedPrefixes: [users/u1/]")
                .replace("prefix: users/\n", "prefix: users/u1/\n")
                .replace("match: users/*/temp/**", "match: users/u1/temp/**");
        assertThat(yaml).contains("allowedPrefixes: [users/u1/]", "match: users/u1/temp/**");

        RunReport report = run(fx.reclaim(yaml));

        assertThat(fx.cloudinary.exists("a1")).isFalse();
        assertThat(fx.cloudinary.exists("a2")).isTrue();
        assertThat(report.sweeps().get(0).purged()).isEqualTo(1);
    }

    @Test
    void dynamicMode_shouldLeaveAFailedBatchToTheNextListing_andDeleteItThen() throws Exception {
        fx.cloudinary.setFolderMode(CloudinaryEmulator.FolderMode.DYNAMIC);
        fx.cloudinary.seed(Asset.dynamic("k3x9qz7abc", "users/u1/temp", "front", OLD, 1000));
        dev.reclaim.failure.Failure failed = dev.reclaim.failure.Failure.keys(dev.reclaim.failure.Failure.ASSET,
                "bobblehead-temp-photos", "bobblehead-photos", List.of("k3x9qz7abc"), "GeneralError", "503",
                "00000000-0000-0000-0000-0000000000aa", Instant.now());

        try (Reclaim reclaim = fx.reclaim()) {
            // Not refused as outside the allowed prefixes (which would park it in the dead-letter queue for nothing).
            assertThat(reclaim.retries().retry(failed, false)).isNull();
        }
        assertThat(fx.cloudinary.exists("k3x9qz7abc")).isTrue();

        run(fx.reclaim());
        assertThat(fx.cloudinary.exists("k3x9qz7abc")).isFalse();
    }

    @Test
    void fixedMode_shouldBeFoundByAuto_andKeepTodaysBehaviour() throws Exception {
        fx.cloudinary.seed(
                Asset.image("users/u1/temp/orphan", OLD, 1000),
                Asset.image("users/u1/photos/saved", OLD, 1000),
                Asset.image("users/u2/temp/referenced", OLD, 1000),
                Asset.image("users/u2/temp/young", YOUNG, 1000));
        referenced("users/u2/temp/referenced");

        RunReport report = run(fx.reclaim());

        SweepReport s = report.sweeps().get(0);
        assertThat(report.folderModes()).containsEntry("bobblehead-photos", "fixed");
        assertThat(fx.cloudinary.exists("users/u1/temp/orphan")).isFalse();
        assertThat(fx.cloudinary.exists("users/u1/photos/saved")).isTrue();
        assertThat(fx.cloudinary.exists("users/u2/temp/referenced")).isTrue();
        assertThat(fx.cloudinary.exists("users/u2/temp/young")).isTrue();
        assertThat(s.scanned()).as("fixed mode lists by prefix, young photos included").isEqualTo(4);
        assertThat(s.purged()).isEqualTo(1);
        assertThat(fx.cloudinary.searchCalls()).isZero();
    }

    @Test
    void anExplicitFolderModeTheAccountContradicts_shouldBeAConfigurationError_andDeleteNothing() throws Exception {
        fx.cloudinary.setFolderMode(CloudinaryEmulator.FolderMode.DYNAMIC);
        fx.cloudinary.seed(Asset.image("users/u1/temp/p1", OLD, 1000));
        Path config = Files.createTempFile("reclaim", ".yaml");
        Files.writeString(config, Files.readString(Path.of("config/reclaim.yaml"))
                .replace("    allowedPrefixes: [users/]\n", "    allowedPrefixes: [users/]\n    folderMode: fixed\n"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = ReclaimCli.execute(new String[] {"run", "--config", config.toString()}, fx.env(),
                new PrintWriter(out, true), new PrintWriter(err, true));

        assertThat(code).isEqualTo(ReclaimCli.USAGE);
        assertThat(err.toString()).contains("stores.bobblehead-photos.folderMode", "fixed", "dynamic");
        assertThat(fx.cloudinary.exists("users/u1/temp/p1")).isTrue();
    }
}
