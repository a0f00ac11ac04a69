package dev.reclaim.run;

import dev.reclaim.report.RunReport;
import dev.reclaim.Reclaim;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Store;
import dev.reclaim.store.Stores;
import dev.reclaim.testing.ForwardingStore;
import dev.reclaim.testing.ReclaimFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Item 8: a run whose advisory lock went with its connection (failover, idle timeout) must stop before the next page. */
class RunLockLossIT {
    private static final String EXPIRED = "deleted_at < now() - interval '30 days'";

    @RegisterExtension
    final ReclaimFixture fx = ReclaimFixture.perTest().withSampleData(40, 0); // 12 expired MOCs

    @BeforeEach
    void setUp() {
        fx.env().put("RECLAIM_MOC_PAGE_SIZE", "2");
    }

    @Test
    void shouldEndFailedWithLostTheRunLock_andPurgeNothingMore_whenTheLockConnectionIsTerminatedAfterTheFirstPage()
            throws Exception {
        AtomicInteger terminated = new AtomicInteger();
        AtomicInteger goneAtLoss = new AtomicInteger(-1);
        Stores real = ReclaimFixture.stores(fx.config(), fx.env());
        Map<String, Store> stores = new LinkedHashMap<>(real.all());
        // The first page's drain is the first delete call: the lock's backend dies right then.
        stores.put("moc-files", new ForwardingStore(real.get("moc-files")) {
            @Override
            public BatchResult delete(List<String> keys, Instant deadline) {
                if (terminated.get() == 0) {
                    terminated.set(terminateLockHolder());
                    goneAtLoss.set((int) (12 - countUnchecked("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)));
                }
                return super.delete(keys, deadline);
            }
        });

        RunReport first;
        try (Reclaim reclaim = fx.reclaim(new Stores(stores, real))) {
            first = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }

        assertThat(terminated.get()).isEqualTo(1);
        assertThat(first.outcome().label()).isEqualTo("failed");
        assertThat(first.reason()).contains("lost the run lock");
        // The drain of page 1 (beside page 2) lost the lock: page 2, verified before the loss, may finish; no page
        // starts after it (the page size is 2).
        long gone = 12 - fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED);
        assertThat(goneAtLoss.get()).isBetween(2, 4);
        assertThat(gone).isBetween(2L, goneAtLoss.get() + 2L).isLessThanOrEqualTo(4);
        assertThat(fx.strings("SELECT outcome || ' ' || purged || ' ' || reason FROM reclaim.runs WHERE id = '"
                + first.runId() + "'")).singleElement().asString().startsWith("failed " + gone + " lost the run lock");

        RunReport second;
        try (Reclaim reclaim = fx.reclaim()) {
            second = reclaim.run(new RunRequest("test", false, List.of("moc-purge"), null));
        }

        assertThat(second.outcome().label()).isEqualTo("completed");
        assertThat(second.sweeps().get(0).purged()).isEqualTo(12 - gone);
        assertThat(fx.count("SELECT count(*) FROM moc_instructions WHERE " + EXPIRED)).isZero();
        assertThat(fx.count("SELECT count(*) FROM reclaim.pending_deletions")).isZero();
    }

    private long countUnchecked(String sql) {
        try {
            return fx.count(sql);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** As a failover or an idle timeout would: the backend holding Reclaim's advisory lock goes away. */
    private int terminateLockHolder() {
        return fx.terminateBackends("FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::bigint = "
                + (RunLock.KEY >>> 32) + " AND objid::bigint = " + (RunLock.KEY & 0xFFFFFFFFL) + " AND objsubid = 1"
                + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
    }
}
