package dev.reclaim.db;

import dev.reclaim.run.SqlCheck;

import dev.reclaim.config.ConfigException;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.testing.ReclaimFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Items 1 and 2 (start-up half): a reference query must return the keys themselves, one column of a text type. */
class ReferenceQueryCheckIT {
    private static final String SWEEP_QUERY = "SELECT s3_key FROM moc_files WHERE s3_key = ANY(:keys)";
    /** The upload-temp sweep's own reference query, as shipped (the moc-files store's query starts the same way). */
    private static final String SWEEP_FIELD = "${RECLAIM_UPLOAD_TEMP_MAX_DELETES:-100000}\n    referenced: |\n      ";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();

    private ReclaimConfig shippedWith(String from, String to) throws Exception {
        String yaml = Files.readString(Path.of("config/reclaim.yaml"));
        if (!yaml.contains(from)) {
            throw new IllegalStateException("the shipped configuration no longer contains: " + from);
        }
        return ConfigLoader.parse("test.yaml", yaml.replace(from, to), fx.env());
    }

    @Test
    void shouldPrepareTheShippedConfiguration_storeReferenceQueriesIncluded() {
        assertThatCode(() -> SqlCheck.check(fx.config(), fx.db)).doesNotThrowAnyException();
    }

    @Test
    void shouldRefuseASweepReferenceQueryReturningANonTextColumn_namingSweepFieldColumnAndType() throws Exception {
        ReclaimConfig config = shippedWith(SWEEP_FIELD + SWEEP_QUERY, SWEEP_FIELD + "SELECT moc_id FROM moc_files WHERE s3_key = ANY(:keys)");

        assertThatThrownBy(() -> SqlCheck.check(config, fx.db))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.upload-temp.referenced: must return exactly one column of a text type")
                .hasMessageEndingWith("but it returns moc_id (uuid)");
    }

    @Test
    void shouldRefuseASweepReferenceQueryReturningTwoColumns() throws Exception {
        ReclaimConfig config = shippedWith(SWEEP_FIELD + SWEEP_QUERY, SWEEP_FIELD + "SELECT s3_key, moc_id FROM moc_files WHERE s3_key = ANY(:keys)");

        assertThatThrownBy(() -> SqlCheck.check(config, fx.db))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: sweeps.upload-temp.referenced: must return exactly one column of a text type")
                .hasMessageEndingWith("but it returns 2 columns: s3_key (text), moc_id (uuid)");
    }

    @Test
    void shouldRefuseAStoreReferenceQueryReturningANonTextColumn() throws Exception {
        ReclaimConfig config = shippedWith("SELECT output_key FROM render_jobs WHERE output_key = ANY(:keys)",
                "SELECT id FROM render_jobs WHERE output_key = ANY(:keys)");

        assertThatThrownBy(() -> SqlCheck.check(config, fx.db))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: stores.render-outputs.referenced: must return exactly one column of a text type")
                .hasMessageEndingWith("but it returns id (uuid)");
    }

    @Test
    void shouldRefuseAStoreReferenceQueryThatDoesNotPrepare() throws Exception {
        ReclaimConfig config = shippedWith("SELECT output_key FROM render_jobs WHERE output_key = ANY(:keys)",
                "SELECT output_key FROM render_job WHERE output_key = ANY(:keys)");

        assertThatThrownBy(() -> SqlCheck.check(config, fx.db))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml: stores.render-outputs.referenced: does not prepare against the database")
                .hasMessageContaining("relation \"render_job\" does not exist");
    }

    @Test
    void shouldAcceptEveryTextType() throws Exception {
        for (String cast : new String[] {"::varchar", "::varchar(500)", "::bpchar", "::name", "::character(300)"}) {
            ReclaimConfig config = shippedWith(SWEEP_FIELD + SWEEP_QUERY, SWEEP_FIELD + "SELECT s3_key" + cast + " FROM moc_files WHERE s3_key = ANY(:keys)");

            assertThatCode(() -> SqlCheck.check(config, fx.db)).as(cast).doesNotThrowAnyException();
        }
    }

    @Test
    void shouldSkipASweepWithoutAReferenceQueryOfItsOwn() throws Exception {
        ReclaimConfig config = shippedWith(SWEEP_FIELD + SWEEP_QUERY + "\n", "${RECLAIM_UPLOAD_TEMP_MAX_DELETES:-100000}\n");

        assertThat(((SweepConfig.Assets) config.sweeps().get("upload-temp")).referenced()).isNull();
        assertThatCode(() -> SqlCheck.check(config, fx.db)).doesNotThrowAnyException();
    }
}
