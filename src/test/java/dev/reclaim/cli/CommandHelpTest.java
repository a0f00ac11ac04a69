package dev.reclaim.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Each command's --help answers the 3 AM questions: which variables, which exit codes, how to call it. */
class CommandHelpTest {
    /** A variable the code names as a string literal: "RECLAIM_DB_URL", "AWS_REGION", ... */
    private static final Pattern VARIABLE = Pattern.compile("\"((?:RECLAIM|AWS|SENTRY|CLOUDINARY)_[A-Z0-9_]*[A-Z0-9])\"");

    private static String help(String... args) {
        StringWriter out = new StringWriter();
        int code = ReclaimCli.execute(args, Map.of(), new PrintWriter(out, true), new PrintWriter(new StringWriter(), true));
        assertThat(code).isZero();
        return out.toString();
    }

    private static List<String> variableNames(CommandHelp.Page page) {
        return page.variables().stream().flatMap(g -> g.variables().keySet().stream()).toList();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "run", "retry", "status"})
    void shouldListTheVariablesExitCodesAndAnExample(String command) {
        String help = command.isEmpty() ? help("--help") : help(command, "--help");
        CommandHelp.Page page = CommandHelp.PAGES.get(command);

        assertThat(variableNames(page)).isNotEmpty().allSatisfy(v -> assertThat(help).containsPattern("(?m)^    " + v + " "));
        assertThat(help).contains("\nExit codes:\n", "\nEnvironment variables:\n", "\nExample:\n  " + page.example() + "\n");
        page.exitCodes().forEach((code, meaning) ->
                assertThat(help).containsPattern("(?m)^ +" + code.strip() + " +" + Pattern.quote(meaning.substring(0, 20))));
        assertThat(page.exitCodes().keySet()).extracting(String::strip).contains("0", "1", "2");
    }

    @Test
    void shouldListTheDatabaseButNotTheStores_forStatus() {
        assertThat(variableNames(CommandHelp.PAGES.get("status")))
                .contains("RECLAIM_DB_URL", "RECLAIM_RETRY_QUEUE_URL", "RECLAIM_DLQ_URL")
                .doesNotContain("CLOUDINARY_URL", "RECLAIM_CONFIG", "SENTRY_DSN");
    }

    /** Code and help cannot drift: a variable the code reads outside the Lambda handlers is in the CLI's help. */
    @Test
    void shouldDocumentEveryVariableTheCodeNames() throws IOException {
        Set<String> documented = CommandHelp.PAGES.values().stream()
                .flatMap(p -> variableNames(p).stream()).collect(Collectors.toSet());
        Set<String> named = new TreeSet<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java/dev/reclaim"))) {
            files.filter(f -> f.toString().endsWith(".java") && !f.toString().contains("/handler/")).forEach(f -> {
                try {
                    Matcher m = VARIABLE.matcher(Files.readString(f));
                    while (m.find()) {
                        named.add(m.group(1));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }

        // Lambda only (the scheduled handler's margin), though Settings, outside handler/, declares it since issue 19
        named.remove("RECLAIM_TIME_MARGIN");
        assertThat(named).hasSizeGreaterThan(30);
        assertThat(documented).containsAll(named);
    }

    @Test
    void shouldPrintTheVersionMavenBuilt() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher version = Pattern.compile("<artifactId>reclaim</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertThat(version.find()).isTrue();

        assertThat(help("--version")).isEqualTo("reclaim " + version.group(1) + System.lineSeparator());
    }
}
