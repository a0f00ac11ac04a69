package dev.reclaim.config;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The configuration a run's start and end lines carry: what changes Reclaim's behaviour, never a secret. */
class ConfigInForceTest {

    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("RECLAIM_DB_URL", "jdbc:postgresql://reclaim:URLPASS1one@db/app?password=URLPASS2two");
        env.put("RECLAIM_DB_PASSWORD", "DBPASS3three");
        env.put("CLOUDINARY_URL", "cloudinary://123456:CLOUDSECRET4four@demo");
        env.put("SENTRY_DSN", "https://SENTRYKEY5five@o1.ingest.sentry.io/1");
        env.put("AWS_SECRET_ACCESS_KEY", "AWSSECRET6six");
        env.put("RECLAIM_DRY_RUN", "true");
        env.put("RECLAIM_TIME_MARGIN", "90s");
        env.put("RECLAIM_MOC_BUCKET", "bucket-from-env");
        env.put("HOME", "/root");
        return env;
    }

    @Test
    void shouldShowTheConfigurationAndTheVariablesInForce_withEverySecretMasked() {
        Map<String, String> env = env();
        ReclaimConfig config = ConfigLoader.load(Path.of("config/reclaim.yaml"), env);

        JsonNode inForce = ConfigInForce.of(config, env);

        String text = inForce.toString();
        for (String secret : new String[] {"URLPASS1one", "URLPASS2two", "DBPASS3three", "CLOUDSECRET4four",
                "SENTRYKEY5five", "AWSSECRET6six"}) {
            assertThat(text).as("mentions a secret").doesNotContain(secret);
        }
        JsonNode shown = inForce.path("environment");
        assertThat(shown.path("RECLAIM_DRY_RUN").asText()).isEqualTo("true");
        assertThat(shown.path("RECLAIM_TIME_MARGIN").asText()).isEqualTo("90s");
        assertThat(shown.path("RECLAIM_DB_PASSWORD").asText()).isEqualTo("***");
        assertThat(shown.path("CLOUDINARY_URL").asText()).isEqualTo("cloudinary://***@demo");
        assertThat(shown.has("HOME")).isFalse();
        assertThat(shown.has("AWS_SECRET_ACCESS_KEY")).isFalse();
        JsonNode mocFiles = inForce.path("config").path("stores").path("moc-files");
        assertThat(mocFiles.path("bucket").asText()).isEqualTo("bucket-from-env");
        assertThat(mocFiles.path("referenced").asText()).as("SQL as written").contains("= ANY(:keys)");
        assertThat(inForce.path("config").path("sweeps").path("moc-purge").path("olderThan").asText()).isEqualTo("PT720H");
    }
}
