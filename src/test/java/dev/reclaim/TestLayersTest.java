package dev.reclaim;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each test class runs in exactly one layer: the unit layer (Surefire) or the integration layer (Failsafe), as
 * pom.xml configures them. A class in both would start services in the unit layer and run twice; one in neither
 * would never run.
 */
class TestLayersTest {
    private static final Path TESTS = Path.of("src/test/java");
    // The plugins' own defaults, in force wherever pom.xml gives no includes.
    private static final List<String> SUREFIRE_DEFAULT =
            List.of("**/Test*.java", "**/*Test.java", "**/*Tests.java", "**/*TestCase.java");
    private static final List<String> FAILSAFE_DEFAULT = List.of("**/IT*.java", "**/*IT.java", "**/*ITCase.java");
    private static final Pattern TEST_ANNOTATION =
            Pattern.compile("@(Test|ParameterizedTest|RepeatedTest|TestFactory|TestTemplate|Property|Example)\\b");

    @Test
    void shouldRunEveryTestClassInExactlyOneLayer_asPomXmlConfiguresSurefireAndFailsafe() throws Exception {
        Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        Layer unit = Layer.of(pom, "maven-surefire-plugin", SUREFIRE_DEFAULT);
        Layer integration = Layer.of(pom, "maven-failsafe-plugin", FAILSAFE_DEFAULT);

        Map<String, String> wrong = new TreeMap<>();
        for (Path file : testSources()) {
            Path relative = TESTS.relativize(file);
            boolean inUnit = unit.runs(relative);
            boolean inIntegration = integration.runs(relative);
            if (inUnit && inIntegration) {
                wrong.put(relative.toString(), "in both layers");
            } else if (!inUnit && !inIntegration && TEST_ANNOTATION.matcher(Files.readString(file)).find()) {
                wrong.put(relative.toString(), "has tests but runs in neither layer");
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(unit.runs(Path.of("dev/reclaim/config/DurationsTest.java"))).isTrue();
        assertThat(integration.runs(Path.of("dev/reclaim/testing/TestCloudWatchIT.java"))).isTrue();
    }

    private static List<Path> testSources() throws IOException {
        try (Stream<Path> files = Files.walk(TESTS)) {
            return files.filter(f -> f.toString().endsWith(".java")).toList();
        }
    }

    /** A plugin's includes and excludes, as Maven globs over paths relative to the test sources. */
    private record Layer(List<PathMatcher> includes, List<PathMatcher> excludes) {
        static Layer of(Document pom, String artifactId, List<String> defaultIncludes) {
            Element configuration = configuration(pom, artifactId);
            List<String> includes = values(configuration, "include");
            return new Layer(matchers(includes.isEmpty() ? defaultIncludes : includes),
                    matchers(values(configuration, "exclude")));
        }

        boolean runs(Path relative) {
            return includes.stream().anyMatch(m -> matches(m, relative)) && excludes.stream().noneMatch(m -> matches(m, relative));
        }

        // Maven's "**/" also matches no directory at all, which a java.nio glob does not.
        private static boolean matches(PathMatcher m, Path relative) {
            return m.matches(relative) || m.matches(Path.of("_", relative.toString()));
        }

        private static List<PathMatcher> matchers(List<String> globs) {
            return globs.stream().map(g -> FileSystems.getDefault().getPathMatcher("glob:" + g)).toList();
        }

        private static Element configuration(Document pom, String artifactId) {
            NodeList plugins = pom.getElementsByTagName("plugin");
            for (int i = 0; i < plugins.getLength(); i++) {
                Element plugin = (Element) plugins.item(i);
                if (artifactId.equals(text(plugin, "artifactId"))) {
                    for (Node c = plugin.getFirstChild(); c != null; c = c.getNextSibling()) {
                        if (c instanceof Element e && e.getTagName().equals("configuration")) {
                            return e;
                        }
                    }
                    return null;
                }
            }
            throw new AssertionError("pom.xml has no " + artifactId);
        }

        private static String text(Element parent, String tag) {
            for (Node c = parent.getFirstChild(); c != null; c = c.getNextSibling()) {
                if (c instanceof Element e && e.getTagName().equals(tag)) {
                    return e.getTextContent().trim();
                }
            }
            return null;
        }

        private static List<String> values(Element configuration, String tag) {
            List<String> out = new ArrayList<>();
            if (configuration != null) {
                NodeList nodes = configuration.getElementsByTagName(tag);
                for (int i = 0; i < nodes.getLength(); i++) {
                    out.add(nodes.item(i).getTextContent().trim());
                }
            }
            return out;
        }
    }
}
