package dev.reclaim.config;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Item 12: the one place that keeps credentials out of messages. */
class RedactionTest {

    @Test
    void shouldMaskTheUserInfoOfAnyUrl() {
        assertThat(Redaction.redact("got 'jdbc:postgresql://u:SECRET@host/db'")).isEqualTo("got 'jdbc:postgresql://***@host/db'");
        assertThat(Redaction.redact("postgres://u:SECRET@h/db")).isEqualTo("postgres://***@h/db");
        assertThat(Redaction.redact("cloudinary://123:SECRET@demo?upload_prefix=http://x")).isEqualTo("cloudinary://***@demo?upload_prefix=http://x");
        assertThat(Redaction.redact("dsn https://PUBLICKEY@o1.ingest.sentry.io/1")).isEqualTo("dsn https://***@o1.ingest.sentry.io/1");
    }

    @Test
    void shouldMaskSecretParameters() {
        assertThat(Redaction.redact("jdbc:postgresql://h/db?user=u&password=SECRET&ssl=true"))
                .isEqualTo("jdbc:postgresql://h/db?user=u&password=***&ssl=true");
        assertThat(Redaction.redact("x?api_secret=SECRET")).isEqualTo("x?api_secret=***");
        assertThat(Redaction.redact("PASSWORD=SECRET;Host=h")).isEqualTo("PASSWORD=***;Host=h");
    }

    @Test
    void shouldLeaveOrdinaryTextAlone() {
        String text = "config/reclaim.yaml: sweeps.upload-temp.match: 'uploads/tmp/**' at http://127.0.0.1:9000/bucket, a@b";
        assertThat(Redaction.redact(text)).isEqualTo(text);
        assertThat(Redaction.redact(null)).isNull();
    }

    @Test
    void shouldMaskTheEnvironmentsSecretValuesWhereverTheyAppear() {
        Redaction redaction = Redaction.of(Map.of(
                "RECLAIM_DB_PASSWORD", "hunter2hunter2",
                "RECLAIM_DB_URL", "jdbc:postgresql://h/db?password=urlpass99",
                "CLOUDINARY_URL", "cloudinary://123:cloudsecret77@demo",
                "SENTRY_DSN", "https://sentrykey55@o1.ingest.sentry.io/1",
                "AWS_SECRET_ACCESS_KEY", "test"));

        assertThat(redaction.apply("auth failed with hunter2hunter2, urlpass99, cloudsecret77 and sentrykey55; test ok"))
                .isEqualTo("auth failed with ***, ***, *** and ***; test ok");
    }

    @Test
    void shouldMaskTheValueOfEveryVariableASecretFilled_whateverItsName() {
        Redaction r = Redaction.of(Map.of("RENDER_KEY", "render-store-secret-key", "RENDER_KEY_SECRET_ARN", "render/key",
                "RENDER_BUCKET", "render-outputs"));

        assertThat(r.apply("signed with render-store-secret-key in render-outputs"))
                .isEqualTo("signed with *** in render-outputs");
    }
}
