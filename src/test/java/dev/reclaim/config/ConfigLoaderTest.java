package dev.reclaim.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
        assertThatThrownBy(() -> ConfigLoader.load(Map.of("RECLAIM_CONFIG", "does/not/exist.yaml")))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("does/not/exist.yaml: cannot read the configuration file");
    }

    @Test
    void shouldRejectAPageSizeOutOfRange() {
        assertThatThrownBy(() -> ConfigLoader.parse("test.yaml", VALID, Map.of("PAGE", "0")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: sweeps.purge.pageSize: must be between 1 and 10000 (got 0)");
    }
}
