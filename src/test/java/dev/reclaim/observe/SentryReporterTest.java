package dev.reclaim.observe;

import dev.reclaim.config.Settings;

import java.util.List;
import dev.reclaim.config.ConfigException;
import io.sentry.Sentry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Sentry's settings from the environment: off without a DSN, refused when invalid; the monitor; the release. */
class SentryReporterTest {

    @AfterEach
    void closeSentry() {
        Sentry.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  "})
    void shouldLeaveSentryOff_andFlushWithoutError_whenSENTRY_DSNIsEmpty(String dsn) {
        assertThat(SentryReporter.from(Settings.Sentry.from(Map.of("SENTRY_DSN", dsn)))).isEmpty();

        SentryReporter.flush();

        assertThat(Sentry.isEnabled()).isFalse();
    }

    @Test
    void shouldLeaveSentryOff_whenSENTRY_DSNIsUnset() {
        assertThat(SentryReporter.from(Settings.Sentry.from(Map.of("SENTRY_ENVIRONMENT", "prod")))).isEmpty();

        assertThat(Sentry.isEnabled()).isFalse();
    }

    @Test
    void shouldRefuseAnInvalidDsn_withoutQuotingItsKey() {
        assertThatThrownBy(() -> SentryReporter.from(Settings.Sentry.from(Map.of("SENTRY_DSN", "https://s3cr3tkey@sentry.example"))))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("SENTRY_DSN: ")
                .hasMessageNotContaining("s3cr3tkey");
        assertThat(Sentry.isEnabled()).isFalse();
    }

    @Test
    void shouldStartSentry_whenSENTRY_DSNIsSet() {
        assertThat(SentryReporter.from(Settings.Sentry.from(Map.of("SENTRY_DSN", "http://key@127.0.0.1:9/1")))).isPresent();

        assertThat(Sentry.isEnabled()).isTrue();
    }

    @Test
    void shouldDescribeTheDailyMonitor_byDefault() {
        Settings.Monitor monitor = Settings.Monitor.from(Map.of());

        assertThat(monitor).isEqualTo(new Settings.Monitor("reclaim-cleanup", "0 3 * * *", "UTC",
                Duration.ofMinutes(30), Duration.ofMinutes(15)));
        assertThat(SentryReporter.monitorConfig(monitor).getCheckinMargin()).isEqualTo(30);
        assertThat(SentryReporter.monitorConfig(monitor).getMaxRuntime()).isEqualTo(15);
        assertThat(SentryReporter.monitorConfig(monitor).getSchedule().getValue()).isEqualTo("0 3 * * *");
    }

    @Test
    void shouldRoundMarginAndRuntimeUpToWholeMinutes() {
        Settings.Monitor monitor = Settings.Monitor.from(Map.of("RECLAIM_SENTRY_CHECKIN_MARGIN", "30s",
                "RECLAIM_SENTRY_MAX_RUNTIME", "61s"));

        assertThat(SentryReporter.monitorConfig(monitor).getCheckinMargin()).isEqualTo(1);
        assertThat(SentryReporter.monitorConfig(monitor).getMaxRuntime()).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"RECLAIM_SCHEDULE_CRONTAB=cron(0 3 * * ? *)", "RECLAIM_SCHEDULE_CRONTAB=0 3 * *",
            "RECLAIM_SENTRY_MONITOR=Reclaim Cleanup", "RECLAIM_SCHEDULE_TIMEZONE=Mars/Olympus",
            "RECLAIM_SENTRY_MAX_RUNTIME=soon", "RECLAIM_SENTRY_FLUSH_TIMEOUT=2 seconds"})
    void shouldRefuseAnInvalidMonitorOrFlushSetting_namingTheVariable(String setting) {
        String name = setting.substring(0, setting.indexOf('='));
        Map<String, String> env = new HashMap<>(Map.of("SENTRY_DSN", "http://key@127.0.0.1:9/1"));
        env.put(name, setting.substring(name.length() + 1));

        assertThatThrownBy(() -> SentryReporter.from(Settings.Sentry.from(env)))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(name + ": ");
        assertThat(Sentry.isEnabled()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"schedule", "schedule:arn:aws:events:us-east-1:123456789012:rule/reclaim-daily"})
    void shouldCheckIn_whenTheTriggerIsASchedule(String trigger) {
        assertThat(SentryReporter.checksIn(trigger)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"cli", "lambda", "manual", "test"})
    void shouldNotCheckIn_whenTheTriggerIsNoSchedule(String trigger) {
        assertThat(SentryReporter.checksIn(trigger)).isFalse();
    }

    @Test
    void shouldKnowItsReleaseFromTheBuild() {
        assertThat(Release.version()).matches("\\d+\\.\\d+\\.\\d+.*");
        assertThat(Release.current()).isEqualTo("reclaim@" + Release.version());
    }

    @Test
    void shouldTakeTheCrontabFromTheTemplatesEventBridgeSchedule_whenNoCrontabIsGiven() {
        assertThat(Settings.Monitor.from(Map.of("RECLAIM_SCHEDULE", "cron(0 3 * * ? *)")).crontab())
                .isEqualTo("0 3 * * *");
        assertThat(Settings.Monitor.from(Map.of("RECLAIM_SCHEDULE", "cron(30 2 ? * MON-FRI *)")).crontab())
                .isEqualTo("30 2 * * MON-FRI");
        assertThat(Settings.Monitor.from(Map.of("RECLAIM_SCHEDULE", "cron(0 3 * * ? *)",
                "RECLAIM_SCHEDULE_CRONTAB", "15 4 * * *")).crontab()).isEqualTo("15 4 * * *");
    }

    @Test
    void shouldRefuseAScheduleItCannotTurnIntoACrontab_ratherThanMonitorTheWrongDay() {
        for (String expression : List.of("rate(1 day)", "cron(0 3 ? * 2 *)", "cron(0 3 L * ? *)", "cron(0 3 ? * MON#1 *)")) {
            assertThatThrownBy(() -> Settings.Monitor.from(Map.of("RECLAIM_SCHEDULE", expression)))
                    .as(expression).isInstanceOf(ConfigException.class).hasMessageContaining("RECLAIM_SCHEDULE_CRONTAB");
        }
    }
}
