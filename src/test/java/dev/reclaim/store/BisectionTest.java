package dev.reclaim.store;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** How a refused batch is split (item 7): the calls it costs, where it stops, and what the deadline leaves. */
class BisectionTest {

    private static List<String> keys(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add("k" + i);
        }
        return out;
    }

    /** A store that refuses any request holding a key {@code refuses} matches, and deletes everything else. */
    private static final class FussyStore implements GuardedStore.Bisection.DeleteCall {
        final Predicate<String> refuses;
        final List<Integer> calls = new ArrayList<>();

        FussyStore(Predicate<String> refuses) {
            this.refuses = refuses;
        }

        @Override
        public BatchResult delete(List<String> keys) {
            calls.add(keys.size());
            if (keys.stream().anyMatch(refuses)) {
                throw new BatchRefused("refused in a request of " + keys.size(), null);
            }
            return new BatchResult(List.copyOf(keys), Map.of());
        }
    }

    @Test
    void shouldFailEachBadKeyAloneInAbout2Log2nCallsPerKey_whenTwoKeysOfABatchAreRefused() {
        FussyStore store = new FussyStore(Set.of("k3", "k700")::contains);

        BatchResult r = GuardedStore.Bisection.delete(keys(1000), 10, store);

        assertThat(r.deleted()).hasSize(998).doesNotContain("k3", "k700");
        assertThat(r.failed()).containsOnlyKeys("k3", "k700");
        assertThat(r.failed().get("k3")).isEqualTo("refused in a request of 1");
        assertThat(store.calls.size()).isLessThanOrEqualTo(1 + 2 * 2 * 10);
    }

    @Test
    void shouldStopSplittingAndFailTheRestWhole_whenTheStoreRefusesEveryKey() {
        FussyStore store = new FussyStore(k -> true);

        BatchResult r = GuardedStore.Bisection.delete(keys(1000), 3, store);

        assertThat(r.deleted()).isEmpty();
        assertThat(r.failed()).hasSize(1000);
        assertThat(r.failed().values().stream().filter(w -> w.contains("not split further"))).hasSize(997);
        // Down to the first key (10 levels), then a few leaves, then one call per part left: far from 2n calls.
        assertThat(store.calls.size()).isLessThanOrEqualTo(25);
    }

    @Test
    void shouldReportWhatWasSettled_whenTheDeadlinePassesWhileSplitting() {
        FussyStore fussy = new FussyStore("k1"::equals);
        List<Integer> made = new ArrayList<>();
        GuardedStore.Bisection.DeleteCall store = keys -> {
            if (made.size() == 4) {
                throw new StoreDeadlinePassed("deadline");
            }
            made.add(keys.size());
            return fussy.delete(keys);
        };

        BatchCutShort cut = catchThrowableOfType(() -> GuardedStore.Bisection.delete(keys(8), 10, store), BatchCutShort.class);

        // 8 refused, 4 refused, 2 refused, k0 deleted; the deadline comes before k1 alone.
        assertThat(made).containsExactly(8, 4, 2, 1);
        assertThat(cut).isInstanceOf(StoreDeadlinePassed.class);
        assertThat(cut.settled().deleted()).containsExactly("k0");
        assertThat(cut.settled().failed()).isEmpty();
    }

    @Test
    void shouldThrowTheDeadlineAsIs_whenNothingWasSettled() {
        StoreDeadlinePassed passed = new StoreDeadlinePassed("deadline");

        Throwable thrown = catchThrowableOfType(() -> GuardedStore.Bisection.delete(keys(8), 10, keys -> {
            throw passed;
        }), StoreDeadlinePassed.class);

        assertThat(thrown).isSameAs(passed);
    }
}
