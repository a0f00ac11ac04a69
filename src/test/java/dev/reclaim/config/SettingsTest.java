package dev.reclaim.config;

import dev.reclaim.run.RunRequest;
import dev.reclaim.run.UsageException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingsTest {
    private static final String DB_URL = "jdbc:postgresql://localhost:5432/app";

    private static Map<String, String> env(String... pairs) {
        Map<String, String> env = new HashMap<>(Map.of("RECLAIM_DB_URL", DB_URL));
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    @Test
    void shouldNameEveryBadVariableInOneError_inTheOrderOfTheVariablesTable() {
        assertThatThrownBy(() -> Settings.from(Map.of("RECLAIM_METRICS_TIMEOUT", "soon", "RECLAIM_DB_POOL_SIZE", "many",
                "AWS_REGION", "eu-west-1", "RECLAIM_DRY_RUN", "maybe")))
                .isInstanceOf(ConfigException.class)
                .hasMessage(String.join("\n",
                        "RECLAIM_DB_URL is not set (e.g. jdbc:postgresql://host:5432/app)",
                        "RECLAIM_DB_POOL_SIZE must be a whole number",
                        "RECLAIM_DRY_RUN: 'maybe' is not a boolean (true/false, 1/0 or yes/no)",
                        "RECLAIM_METRICS_TIMEOUT: 'soon' is not a duration (use 30d, 12h, 15m, 90s, or ISO-8601 such as P30D, PT1H)"));
    }

    @Test
    void shouldKeepTodaysMessage_forOneBadVariable() {
        assertThatThrownBy(() -> Settings.from(env("RECLAIM_OUTBOX_BACKOFF", "PT-5M")))
                .isExactlyInstanceOf(ConfigException.class)
                .hasMessage("RECLAIM_OUTBOX_BACKOFF: must be zero or more, e.g. 30s or 15m (got 'PT-5M')");
        assertThatThrownBy(() -> Settings.from(env("RECLAIM_DB_URL", "mysql://host/app")))
                .hasMessage("RECLAIM_DB_URL must be a PostgreSQL JDBC URL (jdbc:postgresql://...), got 'mysql://host/app'");
        assertThatThrownBy(() -> Settings.from(env("RECLAIM_DB_PASSWORD", "x", "RECLAIM_DB_PASSWORD_SECRET_ARN", "db")))
                .hasMessage("set RECLAIM_DB_PASSWORD or RECLAIM_DB_PASSWORD_SECRET_ARN, not both");
        assertThatThrownBy(() -> Settings.from(env("RECLAIM_RETRY_QUEUE_URL", "http://localhost:4566/000/q")))
                .hasMessage("RECLAIM_RETRY_QUEUE_URL: no AWS region: set AWS_REGION (Lambda sets it)");
        assertThatThrownBy(() -> RunRequest.settings(env("RECLAIM_DRY_RUN", "maybe"))) // a usage error, as before
                .isExactlyInstanceOf(UsageException.class)
                .hasMessage("RECLAIM_DRY_RUN: 'maybe' is not a boolean (true/false, 1/0 or yes/no)");
    }

    @Test
    void shouldValidateTheMonitorOnlyWithADsn_asBefore() {
        assertThat(Settings.from(env("RECLAIM_SCHEDULE", "rate(1 day)")).sentry().dsn()).isNull();
        assertThatThrownBy(() -> Settings.from(env("RECLAIM_SCHEDULE", "rate(1 day)", "SENTRY_DSN", "https://k@h/1")))
                .hasMessageStartingWith("RECLAIM_SCHEDULE: 'rate(1 day)' cannot be turned into the crontab");
    }

    @Test
    void shouldApplyTheDefaults() {
        Settings s = Settings.from(env());
        assertThat(s.config()).isEqualTo(Path.of("config/reclaim.yaml"));
        assertThat(s.database()).isEqualTo(new Settings.Database(DB_URL, null, null, 4, Duration.ofSeconds(10)));
        assertThat(s.dryRun()).isFalse();
        assertThat(s.queues().url()).isNull();
        assertThat(List.of(s.outboxBackoff(), s.outboxRetryPeriod(), s.journalRetention(), s.timeMargin()))
                .containsExactly(Duration.ofMinutes(15), Duration.ofHours(24), Duration.ofDays(30), Duration.ofSeconds(60));
        assertThat(s.metrics()).isEqualTo(new Settings.Metrics(true, false, "Reclaim", null, null, null));
        assertThat(s.sentry().dsn()).isNull();
        assertThat(s.secretIds()).isEmpty();
        assertThat(Settings.Monitor.from(Map.of()))
                .isEqualTo(new Settings.Monitor("reclaim-cleanup", "0 3 * * *", "UTC", Duration.ofMinutes(30), Duration.ofMinutes(15)));
        assertThat(Settings.from(env("RECLAIM_DB_CONNECT_TIMEOUT", "10ms", "RECLAIM_DB_POOL_SIZE", "1")).database())
                .extracting(Settings.Database::poolSize, Settings.Database::connectTimeout)
                .containsExactly(3, Duration.ofMillis(250));
    }

    /** docs/VARIABLES.md's table and {@link Settings#VARIABLES}: the same names, in the same order. */
    @Test
    void shouldDeclareExactlyTheVariablesTheDocsTableLists() throws IOException {
        List<String> table = Files.readAllLines(Path.of("docs/VARIABLES.md")).stream()
                .map(Pattern.compile("^\\| `([A-Z0-9_<>]+)` \\|")::matcher).filter(Matcher::find).map(m -> m.group(1))
                .toList();
        assertThat(table).isNotEmpty();
        assertThat(Settings.VARIABLES).containsExactlyElementsOf(table);
    }

    /** Issue 23: a variable the configuration file names may come from its own secret, as the fixed three do. */
    @Test
    void shouldNameTheSecretOfAVariableTheConfigurationNames_andOnlyOfOneItNames() {
        String arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:render/key-id-AbC123";
        Settings s = Settings.from(env("RENDER_KEY_ID_SECRET_ARN", arn, "UNRELATED_SECRET_ARN", "other",
                "SENTRY_DSN_SECRET_ARN", "sentry-dsn"));

        assertThat(s.secretIds()).containsOnlyKeys("SENTRY_DSN");
        assertThat(s.forConfiguration(List.of("RENDER_KEY_ID", "RECLAIM_RENDER_BUCKET")).secretIds())
                .containsExactly(Map.entry("SENTRY_DSN", "sentry-dsn"), Map.entry("RENDER_KEY_ID", arn));
    }

    @Test
    void shouldRefuseAVariableTheConfigurationNames_setBothDirectlyAndBySecret() {
        Settings s = Settings.from(env("RENDER_KEY_ID", "key-id", "RENDER_KEY_ID_SECRET_ARN", "render/key-id"));

        assertThatThrownBy(() -> s.forConfiguration(List.of("RENDER_KEY_ID")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("set RENDER_KEY_ID or RENDER_KEY_ID_SECRET_ARN, not both");
    }

    /** The template passes a store's key secrets only when set: unused, they would leave the store on the role unseen. */
    @Test
    void shouldRefuseTheSecretOfAReclaimVariableTheConfigurationDoesNotName() {
        Settings s = Settings.from(env("RECLAIM_RENDER_ACCESS_KEY_ID_SECRET_ARN", "render/key-id", "OTHER_TOOL_SECRET_ARN", "x"));

        assertThatThrownBy(() -> s.forConfiguration(List.of("RECLAIM_RENDER_BUCKET")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("RECLAIM_RENDER_ACCESS_KEY_ID_SECRET_ARN names the secret of RECLAIM_RENDER_ACCESS_KEY_ID, which"
                        + " the configuration file does not use (name it there as ${RECLAIM_RENDER_ACCESS_KEY_ID}, or unset"
                        + " RECLAIM_RENDER_ACCESS_KEY_ID_SECRET_ARN)");
        assertThat(s.forConfiguration(List.of("RECLAIM_RENDER_ACCESS_KEY_ID")).secretIds())
                .containsEntry("RECLAIM_RENDER_ACCESS_KEY_ID", "render/key-id");
    }
}
