package dev.reclaim.config;

import dev.reclaim.testing.SecretsManagerFake;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Secrets named by ARN in the environment, read from a Secrets Manager on the wire (a local fake of its JSON API). */
class SecretsIT {
    private SecretsManagerFake secretsManager;
    private Map<String, String> env;

    @BeforeEach
    void setUp() {
        secretsManager = SecretsManagerFake.start();
        env = new HashMap<>();
        env.put("AWS_REGION", SecretsManagerFake.REGION);
        env.put("AWS_ACCESS_KEY_ID", "test");
        env.put("AWS_SECRET_ACCESS_KEY", "test");
        env.put("AWS_ENDPOINT_URL_SECRETS_MANAGER", secretsManager.endpoint().toString());
        env.put("RECLAIM_DB_URL", "jdbc:postgresql://db.internal:5432/app");
    }

    @AfterEach
    void tearDown() {
        secretsManager.close();
    }

    /** As Reclaim reads them: on AWS clients of its own, closed afterwards. */
    private static Map<String, String> resolve(Map<String, String> env) {
        Settings settings = Settings.from(env);
        try (AwsClients aws = new AwsClients(settings.aws())) {
            return Secrets.resolve(settings, aws).substitutions();
        }
    }

    @Test
    void shouldFillEachVariableFromItsSecret_readingEachSecretOnce() {
        String db = secretsManager.put("reclaim/db", "{\"username\":\"reclaim\",\"password\":\"pg-Secret-42\",\"engine\":\"postgres\"}");
        String cloudinary = secretsManager.put("reclaim/cloudinary", "cloudinary://key:cl-Secret-7@demo\n");
        String sentry = secretsManager.put("reclaim/sentry", "https://publickey@o1.ingest.sentry.io/42");
        env.put("RECLAIM_DB_PASSWORD_SECRET_ARN", db);
        env.put("CLOUDINARY_URL_SECRET_ARN", cloudinary);
        env.put("SENTRY_DSN_SECRET_ARN", sentry);

        Map<String, String> resolved = resolve(env);

        assertThat(resolved)
                .containsEntry("RECLAIM_DB_PASSWORD", "pg-Secret-42")
                .containsEntry("CLOUDINARY_URL", "cloudinary://key:cl-Secret-7@demo")
                .containsEntry("SENTRY_DSN", "https://publickey@o1.ingest.sentry.io/42")
                .containsEntry("RECLAIM_DB_URL", "jdbc:postgresql://db.internal:5432/app");
        assertThat(secretsManager.requestedSecretIds()).containsExactlyInAnyOrder(db, cloudinary, sentry);
        assertThat(env).doesNotContainKeys("RECLAIM_DB_PASSWORD", "CLOUDINARY_URL", "SENTRY_DSN");
    }

    @Test
    void shouldReadTheSecretsBeforeTheConfiguration_whenReclaimIsBuiltFromTheEnvironment() throws Exception {
        try (dev.reclaim.testing.ReclaimFixture fx = dev.reclaim.testing.ReclaimFixture.create()) {
            String cloudinaryUrl = fx.env().remove("CLOUDINARY_URL"); // without it the Cloudinary store cannot be built
            fx.env().put("CLOUDINARY_URL_SECRET_ARN", secretsManager.put("reclaim/cloudinary", cloudinaryUrl));
            fx.env().put("AWS_ENDPOINT_URL_SECRETS_MANAGER", secretsManager.endpoint().toString());

            try (dev.reclaim.Reclaim reclaim = dev.reclaim.Reclaim.from(dev.reclaim.run.RunRequest.settings(fx.env()))) {
                var report = reclaim.run(new dev.reclaim.run.RunRequest("test", true, java.util.List.of(), null));
                assertThat(report.outcome()).isEqualTo(dev.reclaim.report.Outcome.COMPLETED);
            }
            assertThat(secretsManager.requestedSecretIds()).hasSize(1);
        }
    }

    @Test
    void shouldTakeThePasswordAsItIs_whenTheDatabaseSecretIsNotJson() {
        env.put("RECLAIM_DB_PASSWORD_SECRET_ARN", secretsManager.put("reclaim/db-plain", "{not-json pass"));

        assertThat(resolve(env)).containsEntry("RECLAIM_DB_PASSWORD", "{not-json pass");
    }

    @Test
    void shouldFindTheSecretByName_whenTheVariableHoldsANameRatherThanAnArn() {
        secretsManager.put("reclaim/sentry", "https://publickey@o1.ingest.sentry.io/42");
        env.put("SENTRY_DSN_SECRET_ARN", "reclaim/sentry");

        assertThat(resolve(env)).containsEntry("SENTRY_DSN", "https://publickey@o1.ingest.sentry.io/42");
    }

    @Test
    void shouldLeaveTheEnvironmentAsItIs_andCallNothing_whenNoSecretIsNamed() {
        env.put("SENTRY_DSN_SECRET_ARN", " ");

        assertThat(resolve(env)).isSameAs(env);
        assertThat(secretsManager.requestedSecretIds()).isEmpty();
    }

    @Test
    void shouldFailNamingTheVariableAndTheError_whenTheSecretDoesNotExist() {
        String missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:reclaim/gone-AbCdEf";
        env.put("CLOUDINARY_URL_SECRET_ARN", missing);

        assertThatThrownBy(() -> resolve(env))
                .isInstanceOf(ConfigException.class)
                .hasMessage("CLOUDINARY_URL_SECRET_ARN: cannot read secret '" + missing + "' (ResourceNotFoundException)");
        assertThat(secretsManager.requestedSecretIds()).containsExactly(missing);
    }

    @Test
    void shouldRefuseAsAConfigurationError_namingTheVariable_whenTheSecretsManagerEndpointIsNotAUrl() {
        env.put("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://secrets manager:4566");
        env.put("RECLAIM_DB_PASSWORD_SECRET_ARN", secretsManager.put("reclaim/db", "pg-Secret-42"));

        assertThatThrownBy(() -> resolve(env))
                .isInstanceOf(ConfigException.class)
                .hasMessage("AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://secrets manager:4566' is not a URL");
        assertThat(secretsManager.requestedSecretIds()).isEmpty();
    }

    @Test
    void shouldRefuse_whenAVariableIsSetBothAsAValueAndAsASecret() {
        env.put("RECLAIM_DB_PASSWORD", "plain");
        env.put("RECLAIM_DB_PASSWORD_SECRET_ARN", secretsManager.put("reclaim/db", "pg-Secret-42"));

        assertThatThrownBy(() -> resolve(env))
                .isInstanceOf(ConfigException.class)
                .hasMessage("set RECLAIM_DB_PASSWORD or RECLAIM_DB_PASSWORD_SECRET_ARN, not both");
        assertThat(secretsManager.requestedSecretIds()).isEmpty();
    }

    @Test
    void shouldRefuseAJsonDatabaseSecretWithoutAPassword_withoutShowingItsContent() {
        env.put("RECLAIM_DB_PASSWORD_SECRET_ARN", secretsManager.put("reclaim/db", "{\"pass\":\"pg-Secret-42\"}"));

        assertThatThrownBy(() -> resolve(env))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("without a text field 'password'")
                .hasMessageNotContaining("pg-Secret-42");
    }

    /** Issue 23: a store's keys, named in the file as variables, filled from their secrets as Lambda does it. */
    @Test
    void shouldFillTheVariablesTheConfigurationNamesFromTheirSecrets_andSignTheStoresCallsWithThem() throws Exception {
        try (dev.reclaim.testing.ReclaimFixture fx = dev.reclaim.testing.ReclaimFixture.create();
             dev.reclaim.testing.S3Front front = dev.reclaim.testing.S3Front.before(
                     dev.reclaim.testing.TestS3.endpoint(), "render-key-id-from-secret")) {
            String shipped = java.nio.file.Files.readString(java.nio.file.Path.of(ConfigLoader.DEFAULT_PATH));
            String withKeys = shipped.replace("    allowedPrefixes: [renders/]\n", """
                        allowedPrefixes: [renders/]
                        endpoint: ${RENDER_ENDPOINT}
                        accessKeyId: ${RENDER_KEY_ID}
                        secretAccessKey: ${RENDER_SECRET_KEY}
                    """);
            assertThat(withKeys).isNotEqualTo(shipped);
            java.nio.file.Path config = java.nio.file.Files.createTempFile("reclaim-keys", ".yaml");
            java.nio.file.Files.writeString(config, withKeys);
            String idArn = secretsManager.put("reclaim/render-key-id", "render-key-id-from-secret\n");
            String secretArn = secretsManager.put("reclaim/render-secret", "render-secret-from-secret");
            fx.env().put("RECLAIM_CONFIG", config.toString());
            fx.env().put("RENDER_ENDPOINT", front.endpoint().toString());
            fx.env().put("RENDER_KEY_ID_SECRET_ARN", idArn);
            fx.env().put("RENDER_SECRET_KEY_SECRET_ARN", secretArn);
            fx.env().put("UNUSED_SECRET_ARN", "reclaim/never-read");
            fx.env().put("AWS_ENDPOINT_URL_SECRETS_MANAGER", secretsManager.endpoint().toString());

            try (dev.reclaim.Reclaim reclaim = dev.reclaim.Reclaim.from(dev.reclaim.run.RunRequest.settings(fx.env()))) {
                var report = reclaim.run(new dev.reclaim.run.RunRequest("test", true, java.util.List.of(), null));
                assertThat(report.outcome()).isEqualTo(dev.reclaim.report.Outcome.COMPLETED);
            } finally {
                java.nio.file.Files.delete(config);
            }
            assertThat(secretsManager.requestedSecretIds()).containsExactlyInAnyOrder(idArn, secretArn);
            assertThat(front.seen()).isNotEmpty()
                    .allMatch(r -> "render-key-id-from-secret".equals(r.keyId()) && r.is("GET", "versioning"));
        }
    }
}
