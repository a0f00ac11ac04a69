package dev.reclaim.run;

import dev.reclaim.failure.Failure;
import dev.reclaim.report.RunEvents;
import dev.reclaim.store.BatchResult;
import dev.reclaim.store.Listing;
import dev.reclaim.store.PrefixGuard;
import dev.reclaim.store.Store;
import dev.reclaim.store.StoreThrottled;
import dev.reclaim.store.Stores;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Retries built from functions and an in-memory store (no service): which retry a failure reaches, and when none. */
class RetriesTest {
    private static final Instant AT = Instant.parse("2026-11-01T10:00:00Z");

    private final List<String> calls = new ArrayList<>();
    private final RecordingStore photos = new RecordingStore("photos", 2, List.of("tmp/"));

    @Test
    void shouldRetryARecordThroughItsSweep_withTheItemIdAndTheDryRunFlag() throws Exception {
        String error = retries().retry(Failure.record("mocs", "42", null, "boom", "run-1", AT), true);

        assertThat(error).isNull();
        assertThat(calls).containsExactly("record mocs 42 dry=true");
    }

    @Test
    void shouldReturnTheSweepsReason_whenARecordFailsAgain() throws Exception {
        Retries retries = new Retries(Map.of("mocs", (ctx, id) -> "row locked"), Map.of(), dry -> context(dry, stores()));

        assertThat(retries.retry(Failure.record("mocs", "42", null, "boom", "run-1", AT), false)).isEqualTo("row locked");
    }

    @Test
    void shouldRefuseARecordFailure_whenItsSweepIsUnknownOrItHasNoItemId() {
        assertThatThrownBy(() -> retries().retry(Failure.record("gone", "42", null, "boom", "run-1", AT), false))
                .isInstanceOf(InvalidFailure.class).hasMessage("no records sweep named 'gone'");
        assertThatThrownBy(() -> retries().retry(Failure.record("mocs", " ", null, "boom", "run-1", AT), false))
                .isInstanceOf(InvalidFailure.class).hasMessage("a record failure needs itemId");
        assertThat(calls).isEmpty();
    }

    @Test
    void shouldRetryAnAssetBatchThroughItsSweep() throws Exception {
        Failure failure = Failure.keys(Failure.ASSET, "temp", "photos", List.of("tmp/a", "tmp/b"), "X", "e", "run-1", AT);

        assertThat(retries().retry(failure, false)).isNull();
        assertThat(calls).containsExactly("asset temp [tmp/a, tmp/b] dry=false");
    }

    @Test
    void shouldRefuseAnAssetFailure_whenItsSweepIsUnknownOrAKeyIsBlank() {
        Failure unknown = Failure.keys(Failure.ASSET, "gone", "photos", List.of("tmp/a"), "X", "e", "run-1", AT);
        Failure blankKey = Failure.keys(Failure.ASSET, "temp", "photos", List.of("tmp/a", ""), "X", "e", "run-1", AT);

        assertThatThrownBy(() -> retries().retry(unknown, false)).isInstanceOf(InvalidFailure.class)
                .hasMessage("no assets sweep named 'gone'");
        assertThatThrownBy(() -> retries().retry(blankKey, false)).isInstanceOf(InvalidFailure.class)
                .hasMessage("a asset failure needs store and keys");
        assertThat(calls).isEmpty();
    }

    @Test
    void shouldRefuseAnAssetFailure_whenItsSweepSaysAKeyIsOutsideIt() {
        Retries retries = new Retries(Map.of(), Map.of("temp", (ctx, keys) -> {
            throw new dev.reclaim.sweep.AssetSweep.OutsideTheSweep("key avatars/b is outside the glob of sweep temp");
        }), dry -> context(dry, stores()));
        Failure failure = Failure.keys(Failure.ASSET, "temp", "photos", List.of("avatars/b"), "X", "e", "run-1", AT);

        assertThatThrownBy(() -> retries.retry(failure, false)).isInstanceOf(InvalidFailure.class)
                .hasMessage("key avatars/b is outside the glob of sweep temp");
    }

    @Test
    void shouldDeleteDeletionKeysInStoreSizedBatches() throws Exception {
        List<String> keys = IntStream.range(0, 5).mapToObj(i -> "tmp/" + i).toList();

        assertThat(retries().retry(deletion("photos", keys), false)).isNull();
        assertThat(photos.batches).containsExactly(List.of("tmp/0", "tmp/1"), List.of("tmp/2", "tmp/3"), List.of("tmp/4"));
    }

    @Test
    void shouldDeleteNothing_whenADeletionIsRetriedInADryRun() throws Exception {
        assertThat(retries().retry(deletion("photos", List.of("tmp/a")), true)).isNull();
        assertThat(photos.batches).isEmpty();
    }

    @Test
    void shouldStopAndSayHowManyFailed_whenABatchOfADeletionFailsAgain() throws Exception {
        photos.failing = List.of("tmp/1");

        String error = retries().retry(deletion("photos", List.of("tmp/0", "tmp/1", "tmp/2")), false);

        assertThat(error).isEqualTo("1 of 3 keys failed again: gateway timeout");
        assertThat(photos.batches).containsExactly(List.of("tmp/0", "tmp/1"));
    }

    @Test
    void shouldDeleteNothing_whenAnyDeletionKeyIsOutsideTheStoresPrefixes() {
        assertThatThrownBy(() -> retries().retry(deletion("photos", List.of("tmp/a", "avatars/b")), false))
                .isInstanceOf(InvalidFailure.class)
                .hasMessage("key avatars/b is outside the allowed prefixes of store photos");
        assertThat(photos.batches).isEmpty();
    }

    @Test
    void shouldRefuseADeletion_whenItsStoreIsUnknown() {
        assertThatThrownBy(() -> retries().retry(deletion("videos", List.of("tmp/a")), false))
                .isInstanceOf(InvalidFailure.class).hasMessage("no store named 'videos'");
    }

    @Test
    void shouldOpenOneContextPerRetriedItem_whateverItsKind() throws Exception {
        List<Boolean> opened = new ArrayList<>();
        Retries retries = new Retries(Map.of("mocs", (ctx, id) -> null), Map.of("temp", (ctx, keys) -> null), dry -> {
            opened.add(dry);
            return context(dry, stores());
        });

        retries.retry(Failure.record("mocs", "42", null, "boom", "run-1", AT), false);
        retries.retry(Failure.keys(Failure.ASSET, "temp", "photos", List.of("tmp/a"), "X", "e", "run-1", AT), true);
        retries.retry(deletion("photos", List.of("tmp/a")), false);

        assertThat(opened).containsExactly(false, true, false); // one connection, one now(), per message
    }

    @Test
    void shouldLetStoreThrottledThrough_whenTheStoresQuotaIsAtItsReserve() {
        photos.throttled = true;

        assertThatThrownBy(() -> retries().retry(deletion("photos", List.of("tmp/a")), false))
                .isInstanceOf(StoreThrottled.class);
    }

    @Test
    void shouldRefuseAFailure_whenItsKindIsUnknownOrMissing() {
        Failure noKind = new Failure("mocs", null, "42", null, null, null, null, null, null, null, 0);

        assertThatThrownBy(() -> retries().retry(noKind, false)).isInstanceOf(InvalidFailure.class)
                .hasMessage("unknown kind 'null' (record, asset, deletion)");
        assertThat(calls).isEmpty();
    }

    private Retries retries() {
        return new Retries(
                Map.of("mocs", (ctx, id) -> {
                    calls.add("record mocs " + id + " dry=" + ctx.dryRun());
                    return null;
                }),
                Map.of("temp", (ctx, keys) -> {
                    calls.add("asset temp " + keys + " dry=" + ctx.dryRun());
                    return null;
                }),
                dry -> context(dry, stores()));
    }

    /** A retry's context as a run builds it: only the dry-run flag and the stores matter here. */
    static Run.Context context(boolean dryRun, Stores stores) {
        return new Run.Context(java.util.UUID.randomUUID(), AT, dryRun, Deadline.none(), null, stores, null, null, null,
                false, null, RunEvents.none(), RunControl.none(), null, false, null);
    }

    private Stores stores() {
        return new Stores(Map.of("photos", photos));
    }

    private static Failure deletion(String store, List<String> keys) {
        return Failure.keys(Failure.DELETION, "temp", store, keys, "X", "e", "run-1", AT);
    }

    /** Records each delete call; fails the keys it is told to, or the whole call as throttled. */
    private static final class RecordingStore implements Store {
        final List<List<String>> batches = new ArrayList<>();
        List<String> failing = List.of();
        boolean throttled;
        private final String name;
        private final int maxBatch;
        private final PrefixGuard guard;

        RecordingStore(String name, int maxBatch, List<String> prefixes) {
            this.name = name;
            this.maxBatch = maxBatch;
            this.guard = new PrefixGuard(prefixes);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public int maxBatch() {
            return maxBatch;
        }

        @Override
        public PrefixGuard guard() {
            return guard;
        }

        @Override
        public BatchResult delete(List<String> keys, Instant deadline) {
            if (throttled) {
                throw new StoreThrottled("quota at its reserve", null);
            }
            batches.add(List.copyOf(keys));
            List<String> deleted = keys.stream().filter(k -> !failing.contains(k)).toList();
            Map<String, String> failed = new java.util.LinkedHashMap<>();
            keys.stream().filter(failing::contains).forEach(k -> failed.put(k, "gateway timeout"));
            return new BatchResult(deleted, failed);
        }

        @Override
        public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
            return new Listing(List.of(), null);
        }

        @Override
        public long apiCalls() {
            return batches.size();
        }
    }
}
