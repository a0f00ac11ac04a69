package dev.reclaim.store;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CloudinaryQuotaTest {
    private static final Instant NOON = Instant.parse("2026-11-24T12:10:00Z");

    /** A clock the test moves. */
    private static final class Hands extends Clock {
        Instant now = NOON;

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final Hands clock = new Hands();
    private final CloudinaryQuota quota = new CloudinaryQuota(0.2, clock);

    @Test
    void shouldAllowCalls_beforeAnyAnswerReportedTheQuota() {
        assertThatCode(quota::check).doesNotThrowAnyException();
        assertThat(quota.asEvent("cdn")).isNull();
    }

    @Test
    void shouldAllowCalls_whileMoreThanTheReserveIsLeft() {
        quota.seen(500, 101, NOON.plus(Duration.ofMinutes(50)));

        assertThatCode(quota::check).doesNotThrowAnyException();
        assertThat(quota.asEvent("cdn").remaining()).isEqualTo(101);
    }

    @Test
    void shouldStopCalls_whenTheRemainingCallsAreDownToTheReserve() {
        Instant reset = NOON.plus(Duration.ofMinutes(50));
        quota.seen(500, 100, reset);

        assertThatThrownBy(quota::check).isInstanceOf(StoreThrottled.class)
                .hasMessageContaining("100 of 500 calls left, reserve 100")
                .satisfies(e -> assertThat(((StoreThrottled) e).resetsAt()).isEqualTo(reset));
    }

    @Test
    void shouldAllowCallsAgain_onceTheResetTimeHasPassed() {
        Instant reset = NOON.plus(Duration.ofMinutes(50));
        quota.seen(500, 3, reset);
        clock.now = reset;

        assertThatCode(quota::check).doesNotThrowAnyException();
        assertThat(quota.asEvent("cdn").remaining()).isEqualTo(500);
    }

    @Test
    void shouldRefuseEveryCallUntilTheNextHour_whenCloudinaryRateLimitedWithoutAResetTime() {
        StoreThrottled spent = quota.spent("420 Rate Limit Exceeded");

        assertThat(spent.resetsAt()).isEqualTo(Instant.parse("2026-11-24T13:00:00Z"));
        assertThatThrownBy(quota::check).isInstanceOf(StoreThrottled.class).hasMessageContaining("earlier in this run");
        clock.now = Instant.parse("2026-11-24T12:59:59Z");
        assertThatThrownBy(quota::check).isInstanceOf(StoreThrottled.class);
        clock.now = Instant.parse("2026-11-24T13:00:00Z");
        assertThatCode(quota::check).doesNotThrowAnyException();
    }

    @Test
    void shouldKeepTheReportedResetTime_whenCloudinaryRateLimitsBeforeIt() {
        Instant reset = NOON.plus(Duration.ofMinutes(20));
        quota.seen(500, 400, reset);

        assertThat(quota.spent("429").resetsAt()).isEqualTo(reset);
    }

    @Test
    void shouldIgnoreAnswersWithoutALimit_soAMissingHeaderNeverUnlocksTheQuota() {
        quota.seen(500, 50, NOON.plus(Duration.ofMinutes(50)));
        quota.seen(0, 0, null);

        assertThatThrownBy(quota::check).isInstanceOf(StoreThrottled.class);
    }
}
