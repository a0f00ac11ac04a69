package dev.reclaim.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fixture's own pool is not Reclaim's: a fault that kills Reclaim's connections (selected by their application
 * name, as the reliability suite does) must not kill the connection the test then checks its promises with.
 */
class ReclaimFixtureIT {
    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest();

    @Test
    void theFixturesReads_shouldOutliveAFaultThatKillsReclaimsConnections() throws Exception {
        assertThat(fx.count("SELECT 1")).isEqualTo(1); // the pool's connection, just used: Hikari hands it out unchecked

        fx.terminateBackends("FROM pg_stat_activity WHERE application_name = 'reclaim' AND datname = current_database()");

        assertThat(fx.count("SELECT 2")).isEqualTo(2);
    }
}
