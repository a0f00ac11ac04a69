package dev.reclaim.cli;

import dev.reclaim.testing.LogLines;
import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.SentryIngest;
import dev.reclaim.testing.TestSqs;
import dev.reclaim.testing.cloudinary.Asset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Item 12: no message, log line or report carries a password, an API secret or a DSN key. Each input that can hold
 * one gets a distinctive secret; the CLI runs ({@code run}, {@code run --json}, {@code retry}) and nothing it prints
 * or logs may contain it.
 */
class SecretsInMessagesIT {
    private static final String SENTRY_KEY = "PUBLICKEY0sentry";
    private static final String UNREACHABLE = "jdbc:postgresql://127.0.0.1:1/app?connectTimeout=2";

    /** What reaches Sentry is checked too: events quote exceptions, and exceptions may quote credentials. */
    @RegisterExtension
    static final SentryIngest sentry = SentryIngest.perClass();

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();
    private LogLines logs;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void setUp() {
        fx.env().putAll(TestSqs.environment());
        fx.env().put("RECLAIM_RETRY_QUEUE_URL", TestSqs.freshQueue("secrets"));
        fx.env().put("SENTRY_DSN", sentry.dsn().replace("publickey", SENTRY_KEY));
        logs = LogLines.capture(); // each line as the JSON appender writes it: structured fields and stack traces too
    }

    @AfterEach
    void tearDown() {
        logs.close();
        sentry.clear();
    }

    private static final List<List<String>> EVERY_COMMAND =
            List.of(List.of("run"), List.of("run", "--json"), List.of("retry", "--max-messages", "1"));

    /** Runs every command with {@code overrides} and returns what was printed and logged. */
    private String everything(Map<String, String> overrides) {
        return seen(overrides, EVERY_COMMAND);
    }

    private String seen(Map<String, String> overrides, List<List<String>> commands) {
        Map<String, String> env = new HashMap<>(fx.env());
        env.putAll(overrides);
        StringBuilder seen = new StringBuilder();
        for (List<String> args : commands) {
            int code = ReclaimCli.execute(args.toArray(String[]::new), env, new PrintWriter(out, true), new PrintWriter(err, true));
            seen.append(args).append(" exit ").append(code).append('\n');
        }
        seen.append("stdout:\n").append(out).append("\nstderr:\n").append(err).append("\nsentry:\n");
        sentry.items().forEach(i -> seen.append(i.payload()).append('\n')); // the CLI flushed before it returned
        seen.append("\nlogs:\n");
        logs.lines(); // every line is JSON
        logs.raw().forEach(seen::append);
        return seen.toString();
    }

    private static void assertNoSecret(String seen, String... secrets) {
        for (String secret : secrets) {
            assertThat(seen).as("output mentions a secret").doesNotContain(secret);
        }
        assertThat(seen).doesNotContain(SENTRY_KEY);
    }

    @Test
    void shouldNotEchoTheDatabasePassword_fromAMalformedJdbcUrl() {
        String seen = everything(Map.of("RECLAIM_DB_URL",
                "jdbc:postgresql://reclaim:URLPASS1one@db.internal/app?password=URLPASS2two&ssl=true"));

        assertThat(seen).contains("exit 2", "RECLAIM_DB_URL");
        assertNoSecret(seen, "URLPASS1one", "URLPASS2two");
    }

    @Test
    void shouldNotEchoTheDatabasePassword_fromANonJdbcUrl() {
        String seen = everything(Map.of("RECLAIM_DB_URL", "postgres://reclaim:URLPASS3three@db.internal/app"));

        assertThat(seen).contains("exit 2", "RECLAIM_DB_URL must be a PostgreSQL JDBC URL");
        assertNoSecret(seen, "URLPASS3three");
    }

    @Test
    void shouldNotEchoTheDatabasePasswords_whenAValidUrlNamesAnUnreachableDatabase() {
        String seen = seen(Map.of("RECLAIM_DB_URL", UNREACHABLE + "&user=reclaim&password=URLPASS4four",
                "RECLAIM_DB_PASSWORD", "DBPASS5five", "RECLAIM_DB_CONNECT_TIMEOUT", "1s"),
                List.of(List.of("run"), List.of("run", "--json"), List.of("retry")));

        assertThat(seen).contains("exit 1", "cannot reach the database", "\"outcome\" : \"failed\"");
        assertNoSecret(seen, "URLPASS4four", "DBPASS5five");
    }

    @Test
    void shouldNotEchoTheCloudinarySecret_fromAMalformedCLOUDINARY_URL() {
        for (String url : List.of("cloudinary://apikey:CLOUDSECRET6six", "cloudinary://apikey:CLOUDSECRET6six@",
                "https://apikey:CLOUDSECRET6six@cloud", "cloudinary://apikey:CLOUDSECRET6six@cloud?upload_prefix=::bad%")) {
            String seen = everything(Map.of("CLOUDINARY_URL", url));

            assertThat(seen).as(url).contains("CLOUDINARY_URL");
            assertNoSecret(seen, "CLOUDSECRET6six");
        }
    }

    @Test
    void shouldNotEchoTheCloudinarySecret_whenTheApiRefusesIt() throws Exception {
        String url = "cloudinary://" + fx.cloudinary.apiKey() + ":CLOUDSECRET7seven@" + fx.cloudinary.cloudName()
                + "?upload_prefix=" + fx.cloudinary.baseUrl();
        fx.cloudinary.seed(Asset.image("users/u1/temp/a", Instant.now().minusSeconds(86_400 * 2), 1000));

        String seen = everything(Map.of("CLOUDINARY_URL", url, "RECLAIM_BOBBLEHEAD_RETENTION", "1ms"));

        assertThat(seen).contains("api_secret mismatch"); // the emulator saw the secret and refused it
        assertThat(seen).contains("\"configuration\"", "\"CLOUDINARY_URL\":\"cloudinary://***@"); // what runs with
        assertNoSecret(seen, "CLOUDSECRET7seven");
        assertThat(String.join("\n", fx.strings("SELECT coalesce(reason, '') || report::text FROM reclaim.runs")))
                .doesNotContain("CLOUDSECRET7seven", SENTRY_KEY);
    }
}
