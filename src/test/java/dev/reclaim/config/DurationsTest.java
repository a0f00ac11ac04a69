package dev.reclaim.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DurationsTest {

    @Test
    void shouldAcceptShortAndIsoForms() {
        assertThat(Durations.parse("30d")).isEqualTo(Duration.ofDays(30));
        assertThat(Durations.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(Durations.parse("15m")).isEqualTo(Duration.ofMinutes(15));
        assertThat(Durations.parse("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("P30D")).isEqualTo(Duration.ofDays(30));
        assertThat(Durations.parse("PT1H")).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void shouldRejectAnythingElse() {
        assertThatThrownBy(() -> Durations.parse("30 days")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Durations.parse("P1M")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Durations.parse("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldRefuseZeroAndNegativeValues_whereAnInputAcceptsOnlyPositiveOnes() {
        for (String value : new String[] {"PT-5M", "-PT5M", "P-1D", "0s", "PT0S"}) {
            assertThatThrownBy(() -> Durations.parse(value, Durations.Accepts.POSITIVE)).as(value)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("must be more than zero");
        }
        assertThat(Durations.parse("1s", Durations.Accepts.POSITIVE)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void shouldAcceptZero_butNoNegativeValue_whereZeroIsMeaningful() {
        assertThat(Durations.parse("0s", Durations.Accepts.ZERO_OR_MORE)).isZero();
        assertThatThrownBy(() -> Durations.parse("PT-1M", Durations.Accepts.ZERO_OR_MORE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be zero or more");
    }

    @Test
    void shouldRefuseADurationTooLongToCompute_asAnIllegalArgumentNotAnArithmeticException() {
        for (String value : new String[] {"200000000000000d", "99999999999999999999d", "P200000000000000D",
                "PT9999999999999999H", "36501d"}) {
            assertThatThrownBy(() -> Durations.parse(value, Durations.Accepts.POSITIVE)).as(value)
                    .isExactlyInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("at most 36500d");
        }
        assertThat(Durations.parse("36500d", Durations.Accepts.POSITIVE)).isEqualTo(Duration.ofDays(36_500));
    }

    @Test
    void shouldNameTheVariableAndWhatItAccepts_whenTheEnvironmentGivesAValueOutOfRange() {
        assertThatThrownBy(() -> dev.reclaim.testing.TestSettings.of(java.util.Map.of("RECLAIM_TIME_MARGIN", "PT-5M")).timeMargin())
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("RECLAIM_TIME_MARGIN: ")
                .hasMessageContaining("must be more than zero");
    }
}
