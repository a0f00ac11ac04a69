package dev.reclaim.config;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What {@code ${NAME:-default}} does at its edges: the cases commons-text's StringSubstitutor would change. */
class SubstitutionTest {
    private static final Map<String, String> ENV = Map.of("A", "a", "EMPTY", "", "REF", "${A}", "DOLLAR", "$1\\x");

    private final Problems problems = new Problems("test.yaml", JsonNodeFactory.instance.objectNode().put("field", ""));

    private String expand(String value) {
        return Substitution.expand(value, "field", ENV, problems);
    }

    @Test
    void shouldGiveAnEmptyVariableTheDefault_onlyWhenOneIsWritten() {
        assertThat(expand("${EMPTY:-d}")).isEqualTo("d");
        assertThat(expand("${EMPTY}")).isEmpty();
        assertThat(expand("${UNSET:-d}")).isEqualTo("d");
        assertThat(expand("${UNSET:-}")).isEmpty();
        assertThat(expand("${A:-a:-b}|${UNSET:-a:-b}")).isEqualTo("a|a:-b");
        assertThatNoException().isThrownBy(problems::report);
    }

    @Test
    void shouldHaveNoEscapeCharacter_andReadNoValueAgain() {
        assertThat(expand("$${A}")).isEqualTo("$a");
        assertThat(expand("\0${A}")).isEqualTo("\0a");
        assertThat(expand("${REF}")).isEqualTo("${A}");
        assertThat(expand("${DOLLAR}")).isEqualTo("$1\\x");
        assertThat(expand("${UNSET:-${A}}")).isEqualTo("${A}");
    }

    @Test
    void shouldLeaveWhatIsNoVariableAsWritten_butReplaceAVariableInsideIt() {
        String notVariables = "${foo-bar:-x} ${1A} ${ A } ${} ${:-x} $A ${A";
        assertThat(expand(notVariables)).isEqualTo(notVariables);
        assertThat(expand("${foo-${A}} ${${A}}")).isEqualTo("${foo-a} ${a}");
        assertThatNoException().isThrownBy(problems::report);
    }

    @Test
    void shouldLeaveTheValueUnchanged_andNameTheFirstUnsetVariableAndTheField() {
        assertThat(expand("${A}/${UNSET}/${OTHER}")).isEqualTo("${A}/${UNSET}/${OTHER}");

        assertThatThrownBy(problems::report).isInstanceOf(ConfigException.class)
                .hasMessage("test.yaml: field: environment variable UNSET is not set"
                        + " (write ${UNSET:-default} for a default)");
    }
}
