package dev.reclaim;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The package order docs/ARCHITECTURE.md draws, checked on the main classes: trigger, run, sweep, then what sweeps
 * use, each package importing only packages below it; no cycle; only the entry points build or call {@link Reclaim}.
 */
class LayeringTest {
    /** Top to bottom; packages on one line import neither each other nor anything above them. */
    static final List<List<String>> ORDER = List.of(
            List.of("handler", "cli"),
            List.of(""), // dev.reclaim: Reclaim, the front door
            List.of("observe", "run"),
            List.of("sweep"),
            List.of("outbox"),
            List.of("failure"),
            List.of("store"),
            List.of("db"),
            List.of("config", "report"));

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.reclaim");

    private static String pkg(String name) {
        return name.isEmpty() ? "dev.reclaim" : "dev.reclaim." + name;
    }

    @Test
    void shouldImportOnlyPackagesBelow_inTheDocumentedOrder() {
        List<String> violations = new ArrayList<>();
        for (int level = 0; level < ORDER.size(); level++) {
            List<String> notBelow = new ArrayList<>();
            for (int above = 0; above <= level; above++) {
                ORDER.get(above).forEach(p -> notBelow.add(pkg(p)));
            }
            for (String own : ORDER.get(level)) {
                String[] forbidden = notBelow.stream().filter(p -> !p.equals(pkg(own))).toArray(String[]::new);
                EvaluationResult result = noClasses().that().resideInAPackage(pkg(own))
                        .should().dependOnClassesThat().resideInAnyPackage(forbidden).evaluate(MAIN);
                violations.addAll(result.getFailureReport().getDetails());
            }
        }
        assertThat(violations).as("imports that run up or sideways").isEmpty();
    }

    @Test
    void shouldHaveNoCycleBetweenPackages() {
        slices().matching("dev.reclaim.(*)..").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void shouldLetOnlyTheEntryPointsUseReclaim() {
        noClasses().that().resideOutsideOfPackages(pkg("handler"), pkg("cli"), pkg(""))
                .should().dependOnClassesThat().belongToAnyOf(Reclaim.class).check(MAIN);
    }

    @Test
    void shouldPlaceEveryMainPackageInTheOrder() {
        List<String> ordered = ORDER.stream().flatMap(List::stream).map(LayeringTest::pkg).toList();
        assertThat(MAIN.stream().map(c -> c.getPackageName()).distinct())
                .as("a new package needs its place in ORDER and in docs/ARCHITECTURE.md")
                .allMatch(ordered::contains);
        assertThat(Arrays.asList(ordered.toArray())).doesNotHaveDuplicates();
    }
}
