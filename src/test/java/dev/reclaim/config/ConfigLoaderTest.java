package dev.reclaim.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

class ConfigLoaderTest {

    private static final String VALID = """
            stores:
              files:
                type: s3
                bucket: ${BUCKET:-my-bucket}
                allowedPrefixes: [mocs/]
            sweeps:
              purge:
                kind: records
                olderThan: ${RETENTION:-30d}
                pageSize: ${PAGE:-50}
                eligible: SELECT id FROM t WHERE deleted_at < :cutoff
                claim: SELECT id FROM t WHERE id = :id FOR UPDATE
                steps:
                  - name: keys
                    sql: SELECT k FROM f WHERE t_id = :id
                    collect: files
                    keep: fileIds
                  - name: delete
                    sql: DELETE FROM t WHERE id = :id AND :fileIds IS NOT NULL
                    count: deleted
            """;

    @Test
    void shouldBindStoresAndSweeps_withEnvironmentDefaults() {
        ReclaimConfig config = ConfigLoader.parse("test.yaml", VALID, Map.of());

        StoreConfig.S3 store = (StoreConfig.S3) config.stores().get("files");
        assertThat(store.bucket()).isEqualTo("my-bucket");
        assertThat(store.allowedPrefixes()).containsExactly("mocs/");
        SweepConfig.Records sweep = (SweepConfig.Records) config.sweeps().get("purge");
        assertThat(sweep.olderThan()).isEqualTo(Duration.ofDays(30));
        assertThat(sweep.pageSize()).isEqualTo(50);
        assertThat(sweep.maxDeletesPerRun()).isEqualTo(Long.MAX_VALUE);
        assertThat(sweep.steps()).extracting(SweepConfig.Step::name).containsExactly("keys", "delete");
        assertThat(sweep.steps().get(1).sql().parameters()).containsExactly("id", "fileIds");
    }

    @Test
    void shouldSubstituteEnvironmentValues() {
        ReclaimConfig config = ConfigLoader.parse("test.yaml", VALID,
                Map.of("BUCKET", "prod-bucket", "RETENTION", "P7D", "PAGE", "200"));

        assertThat(((StoreConfig.S3) config.stores().get("files")).bucket()).isEqualTo("prod-bucket");
        SweepConfig.Records sweep = (SweepConfig.Records) config.sweeps().get("purge");
        assertThat(sweep.olderThan()).isEqualTo(Duration.ofDays(7));
        assertThat(sweep.pageSize()).isEqualTo(200);
    }

    @Test
    void shouldLoadTheShippedConfiguration() {
        ReclaimConfig config = ConfigLoader.load(Path.of("config/reclaim.yaml"), Map.of());

        assertThat(config.sweeps()).containsKeys("moc-purge", "render-outputs");
        assertThat(config.sweeps().get("moc-purge").olderThan()).isEqualTo(Duration.ofDays(30));
        assertThat(config.sweeps().get("render-outputs").olderThan()).isEqualTo(Duration.ofHours(1));
        assertThat(((SweepConfig.Records) config.sweeps().get("moc-purge")).pageSize()).isEqualTo(100);
        SweepConfig.Assets photos = (SweepConfig.Assets) config.sweeps().get("bobblehead-temp-photos");
        assertThat(photos.olderThan()).isEqualTo(Duration.ofHours(24));
        assertThat(photos.match()).isEqualTo("users/*/temp/**");
        assertThat(config.stores().get("bobblehead-photos")).isInstanceOf(StoreConfig.Cloudinary.class);
        assertThat(((StoreConfig.Cloudinary) config.stores().get("bobblehead-photos")).quotaReserve()).isEqualTo(0.2);
        assertThat(config.sweeps().get("upload-temp").olderThan()).isEqualTo(Duration.ofDays(7));
    }

    private static SweepConfig.Brake brake(String brake) {
        String yaml = VALID.replace("    pageSize: ${PAGE:-50}\n", "    pageSize: ${PAGE:-50}\n    brake: " + brake + "\n");
        return ConfigLoader.parse("test.yaml", yaml, Map.of()).sweeps().get("purge").brake();
    }

    @Test
    void shouldPutTheBrakeOnByDefault_withItsDocumentedDefaults_andOffOnlyWhenWrittenOut() {
        assertThat(ConfigLoader.parse("test.yaml", VALID, Map.of()).sweeps().get("purge").brake())
                .isEqualTo(new SweepConfig.Brake(true, 100, 3, 1_000));
        assertThat(brake("off").on()).isFalse();
        assertThat(brake("\"off\"").on()).isFalse();
        assertThat(brake("on")).isEqualTo(SweepConfig.Brake.DEFAULT);
        assertThat(brake("{minItems: 10, factor: 2.5, firstRunLimit: 50}")).isEqualTo(new SweepConfig.Brake(true, 10, 2.5, 50));
        assertThat(brake("{factor: 5}")).isEqualTo(new SweepConfig.Brake(true, 100, 5, 1_000));
    }

    @Test
    void shouldRejectABrakeWithAZeroOrNegativeFactor_anUnknownSetting_orAnotherWord() {
        assertThatThrownBy(() -> brake("{factor: 0}")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sweeps.purge.brake.factor: must be a positive number (got '0')");
        assertThatThrownBy(() -> brake("{factor: -2}")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sweeps.purge.brake.factor: must be a positive number (got '-2')");
        assertThatThrownBy(() -> brake("{minItems: 0}")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sweeps.purge.brake.minItems: must be between 1 and");
        assertThatThrownBy(() -> brake("{limit: 5}")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sweeps.purge.brake.limit: unknown brake setting");
        assertThatThrownBy(() -> brake("sometimes")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sweeps.purge.brake: must be off, on, or a mapping");
    }

    @Test
    void shouldRejectAnUnknownStore_namingFileSweepAndField() {
        String yaml = VALID.replace("collect: files", "collect: photos");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.purge.steps[0].collect: unknown store 'photos'");
    }

    @Test
    void shouldRejectAMissingQuery() {
        String yaml = VALID.replace("    claim: SELECT id FROM t WHERE id = :id FOR UPDATE\n", "");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: sweeps.purge.claim: is required");
    }

    @Test
    void shouldRejectABadDuration() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", VALID, Map.of("RETENTION", "thirty days")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.purge.olderThan: 'thirty days' is not a duration");
    }

    @Test
    void shouldRejectAnUnknownParameterName() {
        String yaml = VALID.replace("WHERE deleted_at < :cutoff", "WHERE deleted_at < :cutof");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: sweeps.purge.eligible: unknown parameter :cutof (known here: :cutoff)");
    }

    @Test
    void shouldRejectAParameterKeptOnlyByALaterStep() {
        String yaml = VALID.replace("SELECT k FROM f WHERE t_id = :id", "SELECT k FROM f WHERE t_id = :id AND :fileIds IS NULL");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.purge.steps[0].sql: unknown parameter :fileIds");
    }

    @Test
    void shouldRejectAnUnknownField_soTyposDoNotPassSilently() {
        String yaml = VALID.replace("pageSize:", "pagesize:");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.purge.pagesize: unknown field");
    }

    @Test
    void shouldRejectAStoreWithoutAllowedPrefixes() {
        String yaml = VALID.replace("    allowedPrefixes: [mocs/]\n", "");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: stores.files.allowedPrefixes:");
    }

    @Test
    void shouldRejectAnUnsetVariableWithoutDefault() {
        String yaml = VALID.replace("${BUCKET:-my-bucket}", "${BUCKET}");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: stores.files.bucket: environment variable BUCKET is not set");
    }

    @Test
    void shouldRejectAClaimThatDoesNotUseTheId() {
        String yaml = VALID.replace("SELECT id FROM t WHERE id = :id FOR UPDATE", "SELECT 1");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.purge.claim: the claim query must lock the item by :id");
    }

    @Test
    void shouldRejectAMissingFile() {
        assertThatThrownBy(() -> ConfigLoader.load(Path.of("does/not/exist.yaml"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("does/not/exist.yaml: cannot read the configuration file");
    }

    @Test
    void shouldRejectAPageSizeOutOfRange() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", VALID, Map.of("PAGE", "0")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: sweeps.purge.pageSize: must be between 1 and 10000 (got 0)");
    }

    private static final String ASSETS = """
            stores:
              files:
                type: s3
                bucket: b
                pathStyle: ${PATH_STYLE:-}
                allowedPrefixes: [uploads/tmp/, mocs/]
            sweeps:
              temp:
                kind: assets
                store: files
                prefix: ${PREFIX:-uploads/}
                match: ${MATCH:-uploads/tmp/**}
                olderThan: 7d
                referenced: SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)
            """;

    private static String assetsWith(String match, String prefix) {
        return ASSETS.replace("${MATCH:-uploads/tmp/**}", '"' + match + '"').replace("${PREFIX:-uploads/}", '"' + prefix + '"');
    }

    @Test
    void shouldReadMaxListPagesPerRun_andTakeNoLimitWhenItIsUnset() {
        SweepConfig.Assets unset = (SweepConfig.Assets) ConfigLoader.parse("test.yaml", ASSETS, Map.of()).sweeps().get("temp");
        SweepConfig.Assets set = (SweepConfig.Assets) ConfigLoader.parse("test.yaml",
                ASSETS.replace("olderThan: 7d", "olderThan: 7d\n    maxListPagesPerRun: 3"), Map.of()).sweeps().get("temp");

        assertThat(unset.maxListPagesPerRun()).isEqualTo(Long.MAX_VALUE);
        assertThat(set.maxListPagesPerRun()).isEqualTo(3);
    }

    @Test
    void shouldFanOutAnS3AssetsSweepOnAutoByDefault_andReadItsShardSize() {
        SweepConfig.Assets unset = (SweepConfig.Assets) ConfigLoader.parse("test.yaml", ASSETS, Map.of()).sweeps().get("temp");
        SweepConfig.Assets set = (SweepConfig.Assets) ConfigLoader.parse("test.yaml",
                ASSETS.replace("olderThan: 7d", "olderThan: 7d\n    fanOut: always\n    shardSize: 50"), Map.of())
                .sweeps().get("temp");

        assertThat(unset.fanOut()).isEqualTo(new SweepConfig.FanOut(SweepConfig.FanOut.Mode.AUTO, 1_000));
        assertThat(set.fanOut()).isEqualTo(new SweepConfig.FanOut(SweepConfig.FanOut.Mode.ALWAYS, 50));
    }

    private static final String CLOUDINARY_SWEEP = """
            stores:
              photos:
                type: cloudinary
                allowedPrefixes: [users/]
            sweeps:
              temp-photos:
                kind: assets
                store: photos
                prefix: users/
                match: users/*/temp/**
                olderThan: 24h
                referenced: SELECT public_id FROM bobblehead_photos WHERE public_id = ANY(:keys)
            """;

    @Test
    void shouldRefuseFanOutOnACloudinarySweep_sayingTheHourlyQuotaIsTheLimit() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml",
                CLOUDINARY_SWEEP.replace("olderThan: 24h", "olderThan: 24h\n    fanOut: auto\n    shardSize: 100"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("test.yaml: sweeps.temp-photos.fanOut: a Cloudinary sweep is not fanned out: the"
                        + " account's hourly Admin API quota is the limit")
                .hasMessageContaining("sweeps.temp-photos.shardSize: a Cloudinary sweep is not fanned out");
        SweepConfig.Assets never = (SweepConfig.Assets) ConfigLoader.parse("test.yaml",
                CLOUDINARY_SWEEP.replace("olderThan: 24h", "olderThan: 24h\n    fanOut: never"), Map.of()).sweeps().get("temp-photos");
        SweepConfig.Assets unset = (SweepConfig.Assets) ConfigLoader.parse("test.yaml", CLOUDINARY_SWEEP, Map.of())
                .sweeps().get("temp-photos");

        assertThat(never.fanOut().mode()).isEqualTo(SweepConfig.FanOut.Mode.NEVER);
        assertThat(unset.fanOut().mode()).isEqualTo(SweepConfig.FanOut.Mode.NEVER);
    }

    @Test
    void shouldRejectMaxListPagesPerRunBelowOne_namingTheSweepAndTheField() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml",
                ASSETS.replace("olderThan: 7d", "olderThan: 7d\n    maxListPagesPerRun: 0"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: sweeps.temp.maxListPagesPerRun: must be at least 1 (got 0): a run lists at least"
                        + " one page");
    }

    // ---- item 3: steps not limited to the item ----------------------------------------------------------------

    @Test
    void shouldRejectAStepThatUsesNeitherTheIdNorAKeptValue_namingSweepAndStep() {
        String yaml = VALID.replace("sql: DELETE FROM t WHERE id = :id AND :fileIds IS NOT NULL",
                "sql: UPDATE moc_parts SET parts_list_id = NULL WHERE parts_list_id IN (SELECT id FROM moc_parts_lists)");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("test.yaml: sweeps.purge.steps[1] (delete).sql: uses neither :id nor a value an earlier step keeps");
    }

    @Test
    void shouldRejectAKeptValueNoLaterStepUses_namingSweepStepAndValue() {
        String yaml = VALID.replace("sql: DELETE FROM t WHERE id = :id AND :fileIds IS NOT NULL",
                "sql: DELETE FROM t WHERE id = :id");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("test.yaml: sweeps.purge.steps[0] (keys).keep: 'fileIds' is used by no later step");
    }

    @Test
    void shouldRejectAStepThatUsesOnlyTheCutoff() {
        String yaml = VALID.replace("sql: SELECT k FROM f WHERE t_id = :id", "sql: SELECT k FROM f WHERE created_at < :cutoff");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.purge.steps[0] (keys).sql: uses neither :id");
    }

    @Test
    void shouldAcceptAStepLimitedByAValueAnEarlierStepKept() {
        String yaml = VALID.replace("sql: DELETE FROM t WHERE id = :id AND :fileIds IS NOT NULL",
                "sql: DELETE FROM f WHERE id = ANY(:fileIds)");

        SweepConfig.Records sweep = (SweepConfig.Records) ConfigLoader.parse("test.yaml", yaml, Map.of()).sweeps().get("purge");

        assertThat(sweep.steps().get(1).sql().parameters()).containsExactly("fileIds");
    }

    // ---- item 4: globs that match everything ------------------------------------------------------------------

    @Test
    void shouldRejectAGlobWithNoLiteralStart() {
        for (String glob : new String[] {"**", "*/**", "*", "{uploads,mocs}/tmp/**", "?ploads/tmp/**"}) {
            assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", assetsWith(glob, "uploads/"), Map.of()))
                    .as(glob)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("test.yaml: sweeps.temp.match: '" + glob + "' has no literal start");
        }
    }

    @Test
    void shouldRejectAGlobThatStartsOutsideTheSweepsPrefix() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", assetsWith("mocs/**", "uploads/"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.temp.match: 'mocs/**' does not start with the sweep's prefix 'uploads/'");
    }

    @Test
    void shouldRejectAGlobThatStartsAboveItsPrefix() {
        // the old check accepted a literal start that the prefix merely extends
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", assetsWith("up*/tmp/**", "uploads/tmp/"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.temp.match: 'up*/tmp/**' does not start with the sweep's prefix 'uploads/tmp/'");
    }

    @Test
    void shouldRejectAGlobOutsideTheStoresAllowedPrefixes() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", assetsWith("uploads/final/**", "uploads/"), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.temp.match: 'uploads/final/**' lies outside the allowed prefixes"
                        + " of store files (uploads/tmp/, mocs/)");
    }

    @Test
    void shouldRejectAnEmptyPrefix() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", assetsWith("uploads/tmp/**", ""), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.temp.prefix: is empty");
    }

    @Test
    void shouldAcceptAGlobWhoseLiteralStartLiesInsidePrefixAndAllowedPrefixes() {
        SweepConfig.Assets sweep = (SweepConfig.Assets) ConfigLoader.parse("test.yaml",
                assetsWith("uploads/tmp/*/part-?.{pdf,png}", "uploads/"), Map.of()).sweeps().get("temp");

        assertThat(sweep.match()).isEqualTo("uploads/tmp/*/part-?.{pdf,png}");
    }

    @Test
    void shouldRejectAGlobThatDoesNotCompile_namingTheField() {
        for (String glob : new String[] {"uploads/tmp/[abc", "uploads/tmp/{a,b", "uploads/tmp/{a,{b,c}}", "uploads/tmp/x\\\\"}) {
            assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", assetsWith(glob, "uploads/"), Map.of()))
                    .as(glob)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageStartingWith("test.yaml: sweeps.temp.match: '");
        }
    }

    // ---- item 2: a store's own reference query ----------------------------------------------------------------

    @Test
    void shouldBindAStoresReferenceQuery_andMakeTheSweepsOwnOptional() {
        String yaml = ASSETS.replace("    referenced: SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)\n", "")
                .replace("    allowedPrefixes: [uploads/tmp/, mocs/]\n",
                        "    allowedPrefixes: [uploads/tmp/, mocs/]\n    referenced: SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)\n");
        ReclaimConfig config = ConfigLoader.parse("test.yaml", yaml, Map.of());

        assertThat(config.stores().get("files").referenced().source()).isEqualTo("SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)");
        assertThat(((SweepConfig.Assets) config.sweeps().get("temp")).referenced()).isNull();
    }

    @Test
    void shouldStillRequireTheSweepsReferenceQueryWhenTheStoreHasNone() {
        String yaml = ASSETS.replace("    referenced: SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)\n", "");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.temp.referenced: is required");
    }

    @Test
    void shouldRejectAStoreReferenceQueryWithoutKeysOrWithAnotherParameter() {
        String without = ASSETS.replace("    allowedPrefixes: [uploads/tmp/, mocs/]\n",
                "    allowedPrefixes: [uploads/tmp/, mocs/]\n    referenced: SELECT s3_key FROM moc_files\n");
        String other = ASSETS.replace("    allowedPrefixes: [uploads/tmp/, mocs/]\n",
                "    allowedPrefixes: [uploads/tmp/, mocs/]\n    referenced: SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys) AND created_at < :cutoff\n");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", without, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: stores.files.referenced: the reference query must take the keys as :keys");
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", other, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: stores.files.referenced: unknown parameter :cutoff (known here: :keys)");
    }

    @Test
    void shouldDeclareAReferenceQueryForEveryShippedStore() {
        ReclaimConfig config = ConfigLoader.load(Path.of("config/reclaim.yaml"), Map.of());

        assertThat(config.stores().values()).allSatisfy(s -> assertThat(s.referenced()).as(s.name()).isNotNull());
        assertThat(config.stores().get("moc-files").referenced().source())
                .contains("moc_files", "moc_instructions", "gallery_images", "UNION ALL", "thumbnail_key");
        assertThat(config.stores().get("render-outputs").referenced().source()).contains("render_jobs", "output_key");
        assertThat(config.stores().get("bobblehead-photos").referenced().source()).contains("bobblehead_photos", "public_id");
        // the sweeps keep their own reference queries too
        assertThat(((SweepConfig.Assets) config.sweeps().get("upload-temp")).referenced()).isNotNull();
        assertThat(((SweepConfig.Assets) config.sweeps().get("bobblehead-temp-photos")).referenced()).isNotNull();
    }

    // ---- item 9: booleans -------------------------------------------------------------------------------------

    @Test
    void shouldReadEveryBooleanSpelling_trimmedAndInAnyCase() {
        Map<String, Boolean> spellings = Map.of("true", true, " YES ", true, "1", true, "Yes", true,
                "false", false, "No", false, "0", false, " FALSE ", false, "", false);
        spellings.forEach((text, expected) -> {
            StoreConfig.S3 store = (StoreConfig.S3) ConfigLoader.parse("test.yaml", ASSETS, Map.of("PATH_STYLE", text))
                    .stores().get("files");
            assertThat(store.pathStyle()).as("'" + text + "'").isEqualTo(expected);
        });
    }

    @Test
    void shouldRejectAnUnreadableBoolean_namingTheField() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", ASSETS, Map.of("PATH_STYLE", "maybe")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: stores.files.pathStyle: 'maybe' is not a boolean");
    }

    // ---- issue 18: a Cloudinary account's backups --------------------------------------------------------------

    private static final String PHOTOS = """
            stores:
              photos:
                type: cloudinary
                allowedPrefixes: [users/]
                backups: ${BACKUPS:-}
            sweeps:
              temp:
                kind: assets
                store: photos
                prefix: users/
                match: "users/*/temp/*"
                olderThan: 1d
                referenced: SELECT public_id FROM photos WHERE public_id = ANY(:keys)
            """;

    @Test
    void shouldTakeACloudinaryAccountAsWithoutBackups_unlessTheStoreDeclaresThem() {
        StoreConfig.Cloudinary unset = (StoreConfig.Cloudinary) ConfigLoader.parse("test.yaml", PHOTOS, Map.of())
                .stores().get("photos");
        StoreConfig.Cloudinary declared = (StoreConfig.Cloudinary) ConfigLoader.parse("test.yaml", PHOTOS,
                Map.of("BACKUPS", "true")).stores().get("photos");
        assertThat(unset.backups()).isFalse();
        assertThat(declared.backups()).isTrue();
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", PHOTOS, Map.of("BACKUPS", "sometimes")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: stores.photos.backups: 'sometimes' is not a boolean");
    }

    @Test
    void shouldKeepStoresAndSweepsInFileOrder_soChecksAndErrorsComeOutTheSameEveryRun() {
        StringBuilder yaml = new StringBuilder("stores:\n");
        List<String> names = List.of("zeta", "alpha", "mike", "bravo", "yankee", "charlie", "xray", "delta");
        for (String n : names) {
            yaml.append("  ").append(n).append(":\n    type: s3\n    bucket: b\n    allowedPrefixes: [x/]\n");
        }
        yaml.append("""
                sweeps:
                  only:
                    kind: assets
                    store: zeta
                    prefix: x/
                    match: x/**
                    olderThan: 1d
                    referenced: SELECT k FROM t WHERE k = ANY(:keys)
                """);

        ReclaimConfig config = ConfigLoader.parse("test.yaml", yaml.toString(), Map.of());

        assertThat(config.stores().keySet()).containsExactlyElementsOf(names);
    }

    // ---- every error at once, in file order --------------------------------------------------------------------

    private static final String THREE_ERRORS = """
            stores:
              files:
                type: s3
                bucket: b
                pathStyle: maybe
                allowedPrefixes: [mocs/]
            sweeps:
              purge:
                kind: records
                olderThan: 30d
                eligible: SELECT id FROM t WHERE deleted_at < :cutoff
                claim: SELECT id FROM t WHERE id = :id FOR UPDATE
                steps:
                  - name: keys
                    sql: SELECT k FROM f WHERE t_id = :id
                    colect: files
                  - name: delete
                    sql: DELETE FROM t WHERE id = :id
                    count: rows deleted
            """;

    @Test
    void shouldReportEveryError_oneLineEach_inFileOrder() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", THREE_ERRORS, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage(String.join("\n",
                        "test.yaml: stores.files.pathStyle: 'maybe' is not a boolean (true/false, 1/0 or yes/no)",
                        "test.yaml: sweeps.purge.steps[0].colect: unknown field (expected one of: collect, count, keep, name, sql)",
                        "test.yaml: sweeps.purge.steps[1].count: 'rows deleted' is not a plain name (letters, digits, _)"));
    }

    @Test
    void shouldReportTheErrorsInFileOrder_whateverTheOrderOfTheFieldsInAMapping() {
        String yaml = """
                stores:
                  files:
                    allowedPrefixes: []
                    bucket: ${BUCKET}
                    type: s3
                sweeps:
                  purge:
                    steps: []
                    claim: SELECT 1
                    olderThan: soon
                    kind: records
                    eligible: SELECT id FROM t WHERE deleted_at < :cutoff
                """;

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage(String.join("\n",
                        "test.yaml: stores.files.allowedPrefixes: every store must list the key prefixes it may delete under (e.g. [\"users/\"])",
                        "test.yaml: stores.files.bucket: environment variable BUCKET is not set (write ${BUCKET:-default} for a default)",
                        "test.yaml: sweeps.purge.steps: a records sweep needs at least one step",
                        "test.yaml: sweeps.purge.claim: the claim query must lock the item by :id (e.g. ... WHERE id = :id ... FOR UPDATE)",
                        "test.yaml: sweeps.purge.olderThan: 'soon' is not a duration (use 30d, 12h, 15m, 90s, or ISO-8601 such as P30D, PT1H)"));
    }

    @Test
    void shouldGiveByteIdenticalMessages_forTheSameInputTwice() {
        String yaml = THREE_ERRORS.replace("WHERE id = :id FOR UPDATE", "WHERE id = :id AND :owner IS NULL");

        String first = catchThrowable(() -> ConfigLoader.parse("test.yaml", yaml, Map.of())).getMessage();
        String second = catchThrowable(() -> ConfigLoader.parse("test.yaml", yaml, Map.of())).getMessage();

        assertThat(first).isEqualTo(second).contains("sweeps.purge.claim: unknown parameter :owner (known here: :id, :cutoff)");
    }

    @Test
    void shouldNameTheKnownTypes_whenAStoreTypeOrSweepKindIsUnknown() {
        String yaml = VALID.replace("type: s3", "type: gcs").replace("kind: records", "kind: rows");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage(String.join("\n",
                        "test.yaml: stores.files.type: unknown store type 'gcs' (known: s3, cloudinary)",
                        "test.yaml: sweeps.purge.kind: unknown sweep kind 'rows' (known: records, assets)"));
    }

    @Test
    void shouldRequireTheKind_andRefuseAStoreThatIsNoMapping() {
        String yaml = VALID.replace("    kind: records\n", "").replace("""
                  files:
                    type: s3
                    bucket: ${BUCKET:-my-bucket}
                    allowedPrefixes: [mocs/]
                """, "  files: [s3]\n");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage(String.join("\n",
                        "test.yaml: stores.files: expected a mapping",
                        "test.yaml: sweeps.purge.kind: is required"));
    }

    @Test
    void shouldRefuseAListWhereASingleValueBelongs() {
        String yaml = VALID.replace("olderThan: ${RETENTION:-30d}", "olderThan: [30d]");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: sweeps.purge.olderThan: expected a single value, got a list");
    }
    // ---- issue 23: S3-compatible stores: keys of a store's own, batch delete, endpoint ---------------------------

    private static final String COMPATIBLE = """
            stores:
              files:
                type: s3
                bucket: b
                endpoint: ${ENDPOINT:-https://ref.storage.supabase.co/storage/v1/s3}
                region: eu-west-2
                pathStyle: true
                accessKeyId: ${KEY_ID_FIELD}
                secretAccessKey: ${SECRET_FIELD}
                batchDelete: ${BATCH:-}
                allowedPrefixes: [uploads/]
            sweeps:
              temp:
                kind: assets
                store: files
                prefix: uploads/
                match: uploads/**
                olderThan: 7d
                referenced: SELECT k FROM t WHERE k = ANY(:keys)
            """;

    private static String compatible(String keyId, String secret) {
        String yaml = COMPATIBLE.replace("${KEY_ID_FIELD}", keyId).replace("${SECRET_FIELD}", secret);
        return yaml.replaceAll("(?m)^ +(accessKeyId|secretAccessKey): $\\n", "");
    }

    @Test
    void shouldReadAStoresOwnKeysFromTheVariablesItNames_andShowOnlyTheirNames() {
        Map<String, String> env = Map.of("SB_KEY_ID", "supabase-key-id-1", "SB_SECRET", "supabase-secret-value-1");

        ReclaimConfig config = ConfigLoader.parse("test.yaml", compatible("${SB_KEY_ID}", "${SB_SECRET}"), env);

        StoreConfig.S3 store = (StoreConfig.S3) config.stores().get("files");
        assertThat(store.credentials()).isEqualTo(new StoreConfig.Credentials("SB_KEY_ID", "supabase-key-id-1",
                "SB_SECRET", "supabase-secret-value-1"));
        assertThat(store.batchDelete()).isTrue();
        String shown = ConfigInForce.of(config, env).toString();
        assertThat(shown).contains("${SB_KEY_ID}", "${SB_SECRET}").doesNotContain("supabase-secret-value-1");
        assertThat(store.credentials().toString()).doesNotContain("supabase-secret-value-1");
    }

    @Test
    void shouldSignWithTheProcessCredentials_whenAStoreNamesNoKeys() {
        StoreConfig.S3 store = (StoreConfig.S3) ConfigLoader.parse("test.yaml", compatible("", ""), Map.of())
                .stores().get("files");

        assertThat(store.credentials()).isNull();
        assertThat(store.endpoint()).isEqualTo("https://ref.storage.supabase.co/storage/v1/s3");
    }

    @Test
    void shouldRefuseHalfAPairOfKeys_namingStoreAndMissingField() {
        Map<String, String> env = Map.of("SB_KEY_ID", "supabase-key-id-1", "SB_SECRET", "supabase-secret-value-1");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", compatible("${SB_KEY_ID}", ""), env))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: stores.files.secretAccessKey: is required with accessKeyId (a store signs with"
                        + " a key pair of its own, or with neither field with the process's AWS credentials)");
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", compatible("", "${SB_SECRET}"), env))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: stores.files.accessKeyId: is required with secretAccessKey (a store signs with"
                        + " a key pair of its own, or with neither field with the process's AWS credentials)");
    }

    @Test
    void shouldRefuseAKeyWrittenIntoTheFile_orAsAVariablesDefault_withoutRepeatingIt() {
        Map<String, String> env = Map.of("SB_KEY_ID", "supabase-key-id-1");
        String literal = compatible("${SB_KEY_ID}", "wJalrXUtnFEMI-K7MDENG-literal");
        String withDefault = compatible("${SB_KEY_ID}", "${SB_SECRET:-wJalrXUtnFEMI-K7MDENG-default}");

        for (String yaml : List.of(literal, withDefault)) {
            Throwable t = catchThrowable(() -> ConfigLoader.parse("test.yaml", yaml, env));
            assertThat(t).isInstanceOf(ConfigException.class)
                    .hasMessage("test.yaml: stores.files.secretAccessKey: must name an environment variable, as"
                            + " ${SUPABASE_S3_SECRET}: a key is never written into the configuration file");
            assertThat(t.getMessage()).doesNotContain("wJalrXUtnFEMI");
        }
    }

    @Test
    void shouldRefuseAKeyWhoseVariableIsNotSet_namingItAndWhereLambdaReadsIt() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", compatible("${SB_KEY_ID}", "${SB_SECRET}"),
                Map.of("SB_KEY_ID", "supabase-key-id-1", "SB_SECRET", " ")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: stores.files.secretAccessKey: environment variable SB_SECRET is not set (or"
                        + " SB_SECRET_SECRET_ARN, naming the Secrets Manager secret that holds it)");
    }

    @Test
    void shouldRefuseAnEndpointThatIsNotAnHttpUrl_namingStoreAndField() {
        for (String endpoint : List.of("localhost:9000", "not a url", "ftp://files.example.net", "https://")) {
            assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", compatible("", ""), Map.of("ENDPOINT", endpoint)))
                    .as(endpoint)
                    .isInstanceOf(ConfigException.class)
                    .hasMessage("test.yaml: stores.files.endpoint: '" + endpoint + "' is not an http or https URL"
                            + " such as https://<project_ref>.storage.supabase.co/storage/v1/s3");
        }
    }

    @Test
    void shouldDeleteInBatchesUnlessTheStoreSaysOtherwise_andRefuseAnythingButABoolean() {
        StoreConfig.S3 single = (StoreConfig.S3) ConfigLoader.parse("test.yaml", compatible("", ""),
                Map.of("BATCH", "false")).stores().get("files");

        assertThat(single.batchDelete()).isFalse();
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", compatible("", ""), Map.of("BATCH", "sometimes")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: stores.files.batchDelete: 'sometimes' is not a boolean (true/false, 1/0 or yes/no)");
    }

    @Test
    void shouldReportEveryS3CompatibilityError_atOnce_inFileOrder() {
        String yaml = compatible("AKIAIOSFODNN7EXAMPLE", "${SB_SECRET}").replace("pathStyle: true", "pathStyle: perhaps");

        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", yaml,
                Map.of("ENDPOINT", "minio:9000", "SB_SECRET", "supabase-secret-value-1")))
                .isInstanceOf(ConfigException.class)
                .hasMessage(String.join("\n",
                        "test.yaml: stores.files.endpoint: 'minio:9000' is not an http or https URL such as"
                                + " https://<project_ref>.storage.supabase.co/storage/v1/s3",
                        "test.yaml: stores.files.pathStyle: 'perhaps' is not a boolean (true/false, 1/0 or yes/no)",
                        "test.yaml: stores.files.accessKeyId: must name an environment variable, as"
                                + " ${SUPABASE_S3_KEY_ID}: a key is never written into the configuration file"));
    }
}
