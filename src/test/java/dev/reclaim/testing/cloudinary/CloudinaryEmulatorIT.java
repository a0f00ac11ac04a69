package dev.reclaim.testing.cloudinary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.cloudinary.Api;
import com.cloudinary.Cloudinary;
import com.cloudinary.api.ApiResponse;
import com.cloudinary.api.AuthorizationRequired;
import com.cloudinary.api.RateLimit;
import com.cloudinary.api.exceptions.BadRequest;
import com.cloudinary.api.exceptions.GeneralError;
import com.cloudinary.api.exceptions.RateLimited;
import com.cloudinary.utils.ObjectUtils;

import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drives the emulator through the real Cloudinary Java SDK (cloudinary-http44). */
class CloudinaryEmulatorIT {

    private static final Instant T0 = Instant.parse("2024-06-25T08:58:23Z");

    private final MutableClock clock = new MutableClock(Instant.parse("2024-06-25T10:15:00Z"));
    private CloudinaryEmulator emu;
    private Api api;

    @BeforeEach
    void start() {
        emu = CloudinaryEmulator.builder().clock(clock).hourlyLimit(500).start();
        api = new Cloudinary(emu.cloudinaryUrl()).api();
    }

    @AfterEach
    void stop() {
        emu.close();
    }

    private static Map<String, Object> opts(Object... kv) {
        return ObjectUtils.asMap(kv);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> resources(ApiResponse r) {
        return (List<Map<String, Object>>) r.get("resources");
    }

    private static List<String> ids(ApiResponse r) {
        return resources(r).stream().map(m -> (String) m.get("public_id")).collect(Collectors.toList());
    }

    private void seedImages(String prefix, int count) {
        List<Asset> assets = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            assets.add(Asset.image(prefix + String.format("%05d", i), T0.plusSeconds(i), 1000 + i));
        }
        emu.seed(assets);
    }

    @Test
    void uploadPrefixPointsTheSdkAtTheEmulatorAndListReturnsCloudinaryShapedResources() throws Exception {
        emu.seed(Asset.image("uploads/tmp/a1", T0, 4242));
        ApiResponse r = api.resources(opts("type", "upload", "prefix", "uploads/"));
        assertThat(resources(r)).hasSize(1);
        Map<String, Object> a = resources(r).get(0);
        assertThat(a).containsEntry("public_id", "uploads/tmp/a1")
                .containsEntry("format", "jpg")
                .containsEntry("resource_type", "image")
                .containsEntry("type", "upload")
                .containsEntry("created_at", "2024-06-25T08:58:23Z")
                .containsEntry("asset_folder", "uploads/tmp")
                .containsKey("asset_id");
        assertThat(((Number) a.get("bytes")).longValue()).isEqualTo(4242L);
        assertThat(r).doesNotContainKey("next_cursor");
        CloudinaryEmulator.RecordedRequest req = emu.recentRequests().get(0);
        assertThat(req.method()).isEqualTo("GET");
        assertThat(req.path()).isEqualTo("/v1_1/demo/resources/image/upload");
        assertThat(req.query()).containsEntry("prefix", List.of("uploads/"));
    }

    @Test
    void listsAcrossPagesWithNextCursorSortedByPublicIdWhenPrefixed() throws Exception {
        seedImages("uploads/", 1234);
        seedImages("keep/", 50);
        List<String> seen = new ArrayList<>();
        List<Integer> pageSizes = new ArrayList<>();
        String cursor = null;
        do {
            Map<String, Object> o = opts("type", "upload", "prefix", "uploads/", "max_results", 500);
            if (cursor != null) {
                o.put("next_cursor", cursor);
            }
            ApiResponse r = api.resources(o);
            pageSizes.add(resources(r).size());
            seen.addAll(ids(r));
            cursor = (String) r.get("next_cursor");
        } while (cursor != null);
        assertThat(pageSizes).containsExactly(500, 500, 234);
        assertThat(seen).hasSize(1234).isSorted().allMatch(id -> id.startsWith("uploads/"));
        assertThat(emu.listCalls()).isEqualTo(3);
    }

    @Test
    void refusesACursorIssuedBeforeExpireCursors_with400_andGoesOnIssuingValidOnes() throws Exception {
        seedImages("uploads/", 3);
        ApiResponse first = api.resources(opts("type", "upload", "prefix", "uploads/", "max_results", 1));
        Object kept = first.get("next_cursor");
        assertThat(ids(api.resources(opts("type", "upload", "prefix", "uploads/", "max_results", 1, "next_cursor", kept))))
                .containsExactly("uploads/00001");

        emu.expireCursors();

        assertThatThrownBy(() -> api.resources(opts("type", "upload", "prefix", "uploads/", "max_results", 1,
                "next_cursor", kept))).isInstanceOf(com.cloudinary.api.exceptions.BadRequest.class)
                .hasMessageContaining("expired");
        ApiResponse again = api.resources(opts("type", "upload", "prefix", "uploads/", "max_results", 1));
        assertThat(ids(api.resources(opts("type", "upload", "prefix", "uploads/", "max_results", 1, "next_cursor",
                again.get("next_cursor"))))).containsExactly("uploads/00001");
    }

    @Test
    void listWithoutPrefixIsNewestFirstWithDefaultPageOfTenAndCursorWorks() throws Exception {
        seedImages("x/", 25);
        ApiResponse first = api.resources(opts("type", "upload"));
        assertThat(ids(first)).hasSize(10).first().isEqualTo("x/00024");
        ApiResponse second = api.resources(opts("type", "upload", "next_cursor", first.get("next_cursor")));
        assertThat(ids(second)).first().isEqualTo("x/00014");
        ApiResponse asc = api.resources(opts("type", "upload", "direction", "asc", "max_results", 500));
        assertThat(ids(asc)).hasSize(25).first().isEqualTo("x/00000");
        assertThat(asc).doesNotContainKey("next_cursor");
    }

    @Test
    void listByAssetFolderIsNotRecursive() throws Exception {
        emu.seed(Asset.image("f/a", T0, 1), Asset.image("f/b", T0.plusSeconds(1), 1),
                Asset.image("f/sub/c", T0, 1), Asset.of("f/d.pdf", "raw", "upload", T0, 9));
        ApiResponse r = api.resourcesByAssetFolder("f", opts("max_results", 500));
        assertThat(ids(r)).containsExactlyInAnyOrder("f/a", "f/b", "f/d.pdf");
        assertThat(emu.recentRequests().get(0).path()).isEqualTo("/v1_1/demo/resources/by_asset_folder");
    }

    @Test
    void maxResultsAbove500IsBadRequest() {
        Throwable t = catchThrowable(() -> api.resources(opts("type", "upload", "max_results", 501)));
        assertThat(t).isExactlyInstanceOf(BadRequest.class).hasMessageContaining("max_results");
    }

    @Test
    void deletesUpTo100IdsSentAsPostFormWithMethodOverride() throws Exception {
        seedImages("d/", 150);
        List<String> hundred = IntStream.range(0, 100).mapToObj(i -> String.format("d/%05d", i)).toList();
        ApiResponse r = api.deleteResources(hundred, opts());
        @SuppressWarnings("unchecked")
        Map<String, Object> deleted = (Map<String, Object>) r.get("deleted");
        assertThat(deleted).hasSize(100).allSatisfy((k, v) -> assertThat(v).isEqualTo("deleted"));
        assertThat(r).containsEntry("partial", false).containsKey("deleted_counts");
        assertThat(emu.publicIds()).hasSize(50).doesNotContainAnyElementsOf(hundred);

        CloudinaryEmulator.RecordedRequest req = emu.recentRequests().get(0);
        assertThat(req.method()).isEqualTo("POST");
        assertThat(req.path()).isEqualTo("/v1_1/demo/resources/image/upload");
        assertThat(req.query()).isEmpty();
        assertThat(req.contentType()).startsWith("application/x-www-form-urlencoded");
        assertThat(req.body()).containsEntry("_method", List.of("delete"));
        assertThat(req.body().get("public_ids[]")).isEqualTo(hundred);
    }

    @Test
    void deleting101IdsIsBadRequestAndDeletesNothing() {
        seedImages("d/", 101);
        List<String> ids = emu.publicIds();
        assertThatThrownBy(() -> api.deleteResources(ids, opts()))
                .isExactlyInstanceOf(BadRequest.class).hasMessageContaining("100");
        assertThat(emu.publicIds()).hasSize(101);
    }

    @Test
    void deletingAPublicIdWithAControlCharacterIsBadRequestForTheWholeCallAndDeletesNothing() throws Exception {
        emu.seed(Asset.image("users/u1/temp/good", T0, 1), Asset.image("users/u1/temp/bad\u0001", T0, 1));
        assertThatThrownBy(() -> api.deleteResources(List.of("users/u1/temp/good", "users/u1/temp/bad\u0001"), opts()))
                .isExactlyInstanceOf(BadRequest.class).hasMessageContaining("Invalid public_id").hasMessageContaining("\\u0001");
        // The SDK sends the id percent-encoded in the form body; the emulator decodes it as Cloudinary would.
        assertThat(emu.recentRequests().get(emu.recentRequests().size() - 1).body().get("public_ids[]"))
                .containsExactly("users/u1/temp/good", "users/u1/temp/bad\u0001");
        assertThat(emu.publicIds()).hasSize(2);
        assertThat(api.deleteResources(List.of("users/u1/temp/good"), opts()).get("deleted"))
                .isEqualTo(Map.of("users/u1/temp/good", "deleted"));
    }

    @Test
    void missingIdIsNotFoundWith200() throws Exception {
        emu.seed(Asset.image("here", T0, 1));
        ApiResponse r = api.deleteResources(List.of("here", "gone"), opts());
        assertThat(r.get("deleted")).isEqualTo(Map.of("here", "deleted", "gone", "not_found"));
        assertThat(emu.exists("here")).isFalse();
        ApiResponse video = api.deleteResources(List.of("here"), opts("resource_type", "video"));
        assertThat(video.get("deleted")).isEqualTo(Map.of("here", "not_found"));
    }

    @Test
    void rateLimitHeadersAreReadByApiRateLimit() throws Exception {
        ApiResponse r = api.resources(opts("type", "upload"));
        RateLimit limit = r.apiRateLimit();
        assertThat(limit.getLimit()).isEqualTo(500);
        assertThat(limit.getRemaining()).isEqualTo(499);
        assertThat(limit.getReset()).isEqualTo(Date.from(Instant.parse("2024-06-25T11:00:00Z")));
        assertThat(r.rateLimits()).containsOnlyKeys("Api");
        api.deleteResources(List.of("nothing"), opts());
        assertThat(emu.remainingBudget()).isEqualTo(498);
    }

    @Test
    void spentBudgetAnswers420AsRateLimitedUntilTheHourTurns() throws Exception {
        emu.setRemainingBudget(1);
        assertThat(api.resources(opts("type", "upload")).apiRateLimit().getRemaining()).isZero();
        assertThatThrownBy(() -> api.resources(opts("type", "upload")))
                .isExactlyInstanceOf(RateLimited.class).hasMessage("Rate Limit Exceeded");
        assertThatThrownBy(() -> api.deleteResources(List.of("a"), opts()))
                .isExactlyInstanceOf(RateLimited.class);
        assertThat(emu.rateLimitedCalls()).isEqualTo(2);

        clock.set(Instant.parse("2024-06-25T11:00:00Z"));
        RateLimit after = api.resources(opts("type", "upload")).apiRateLimit();
        assertThat(after.getRemaining()).isEqualTo(499);
        assertThat(after.getReset()).isEqualTo(Date.from(Instant.parse("2024-06-25T12:00:00Z")));

        emu.setRemainingBudget(0);
        assertThatThrownBy(() -> api.resources(opts("type", "upload"))).isInstanceOf(RateLimited.class);
        emu.resetBudget();
        assertThat(api.resources(opts("type", "upload")).apiRateLimit().getRemaining()).isEqualTo(499);
    }

    @Test
    void status429IsAGeneralErrorInTheSdk() {
        try (CloudinaryEmulator e = CloudinaryEmulator.builder().hourlyLimit(0).rateLimitStatus(429).start()) {
            Api a = new Cloudinary(e.cloudinaryUrl()).api();
            assertThatThrownBy(() -> a.resources(opts("type", "upload")))
                    .isExactlyInstanceOf(GeneralError.class)
                    .hasMessageContaining("unexpected status code - 429")
                    .hasMessageContaining("Rate Limit Exceeded");
        }
    }

    @Test
    void badCredentialsAre401AuthorizationRequired() {
        String wrongSecret = "cloudinary://test-key:nope@demo?upload_prefix=" + emu.baseUrl();
        assertThatThrownBy(() -> new Cloudinary(wrongSecret).api().resources(opts("type", "upload")))
                .isExactlyInstanceOf(AuthorizationRequired.class).hasMessage("api_secret mismatch");
        String wrongKey = "cloudinary://other:test-secret@demo?upload_prefix=" + emu.baseUrl();
        assertThatThrownBy(() -> new Cloudinary(wrongKey).api().deleteResources(List.of("a"), opts()))
                .isExactlyInstanceOf(AuthorizationRequired.class);
        String wrongCloud = "cloudinary://test-key:test-secret@elsewhere?upload_prefix=" + emu.baseUrl();
        assertThatThrownBy(() -> new Cloudinary(wrongCloud).api().resources(opts("type", "upload")))
                .isExactlyInstanceOf(AuthorizationRequired.class);
        assertThat(emu.remainingBudget()).isEqualTo(500); // 401s cost nothing
        assertThat(emu.totalCalls()).isEqualTo(3);
        String noCredentials = "cloudinary://demo?upload_prefix=" + emu.baseUrl();
        assertThatThrownBy(() -> new Cloudinary(noCredentials).api().resources(opts("type", "upload")))
                .isExactlyInstanceOf(IllegalArgumentException.class).hasMessage("Must supply api_key");
        assertThat(emu.totalCalls()).isEqualTo(3); // refused by the SDK before sending
    }

    @Test
    void scriptedFailuresMapToSdkExceptions() throws Exception {
        emu.failNext(1, 500);
        emu.failNext(1, 503);
        emu.failNext(1, 420);
        assertThatThrownBy(() -> api.resources(opts("type", "upload")))
                .isExactlyInstanceOf(GeneralError.class).hasMessage("Injected failure (HTTP 500)");
        assertThatThrownBy(() -> api.resources(opts("type", "upload")))
                .isExactlyInstanceOf(GeneralError.class).hasMessageContaining("unexpected status code - 503");
        assertThatThrownBy(() -> api.deleteResources(List.of("x"), opts()))
                .isExactlyInstanceOf(RateLimited.class);
        assertThat(api.resources(opts("type", "upload"))).containsKey("resources");
        assertThat(emu.listCalls()).isEqualTo(3);
        assertThat(emu.deleteCalls()).isEqualTo(1);
        assertThat(emu.totalCalls()).isEqualTo(4);
    }

    @Test
    void randomErrorInjectionIsDeterministicPerSeed() throws Exception {
        List<Boolean> run1 = failurePattern(7);
        List<Boolean> run2 = failurePattern(7);
        assertThat(run1).isEqualTo(run2);
        long failures = run1.stream().filter(b -> b).count();
        assertThat(failures).isBetween(15L, 45L); // ratio 0.3 over 100 calls
    }

    private static List<Boolean> failurePattern(long seed) throws Exception {
        try (CloudinaryEmulator e = CloudinaryEmulator.builder().seed(seed).errorRatio(0.3).start()) {
            Api a = new Cloudinary(e.cloudinaryUrl()).api();
            List<Boolean> out = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                try {
                    a.resources(opts("type", "upload"));
                    out.add(false);
                } catch (GeneralError err) {
                    out.add(true);
                }
            }
            return out;
        }
    }

    @Test
    void timeoutHoldsTheAnswerPastTheClientTimeoutButTheDeleteHappens() throws Exception {
        emu.setTimeoutHold(Duration.ofSeconds(3));
        emu.seed(Asset.image("slow", T0, 1));
        emu.timeoutNext(1);
        long t0 = System.nanoTime();
        Throwable t = catchThrowable(() -> api.deleteResources(List.of("slow"), opts("timeout", 300)));
        assertThat(t).isInstanceOf(SocketTimeoutException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThat(emu.exists("slow")).isFalse();
    }

    @Test
    void latencyIsAddedToEveryCall() throws Exception {
        emu.setLatency(Duration.ofMillis(50));
        long t0 = System.nanoTime();
        api.resources(opts("type", "upload"));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(50));
    }

    @Test
    void holdsAMillionAssetsAndServesDeepPrefixPagesQuickly() throws Exception {
        List<Asset> assets = new ArrayList<>(1_000_000);
        for (int i = 0; i < 1_000_000; i++) {
            assets.add(Asset.image("bulk/" + (100 + i % 900) + "/" + (10_000_000 + i), T0.plusSeconds(i % 86_400), i));
        }
        emu.seed(assets);
        assets = null;
        assertThat(emu.assetCount()).isEqualTo(1_000_000);
        emu.setBudgetLimit(10_000);
        int total = 0;
        String cursor = null;
        long t0 = System.nanoTime();
        do { // prefix "bulk/500/" sits in the middle of the id space: 1111 assets, 3 pages
            Map<String, Object> o = opts("type", "upload", "prefix", "bulk/500/", "max_results", 500);
            if (cursor != null) {
                o.put("next_cursor", cursor);
            }
            ApiResponse r = api.resources(o);
            total += resources(r).size();
            cursor = (String) r.get("next_cursor");
        } while (cursor != null);
        for (int i = 0; i < 20; i++) { // 20 pages of 500 by created_at, newest first
            Map<String, Object> o = opts("type", "upload", "max_results", 500);
            if (cursor != null) {
                o.put("next_cursor", cursor);
            }
            ApiResponse r = api.resources(o);
            assertThat(resources(r)).hasSize(500);
            cursor = (String) r.get("next_cursor");
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(total).isEqualTo(1111);
        assertThat(took).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void listingWithoutTypeMergesAllDeliveryTypesAndPagesWithoutGapsOrDuplicates() throws Exception {
        List<Asset> assets = new ArrayList<>();
        for (int i = 0; i < 30; i++) { // many equal created_at values across types
            assets.add(Asset.of("u" + i, "image", "upload", T0.plusSeconds(i / 4), 1));
            assets.add(Asset.of("p" + i, "image", "private", T0.plusSeconds(i / 3), 1));
        }
        assets.add(Asset.of("v0", "video", "upload", T0, 1));
        emu.seed(assets);
        for (String direction : List.of("desc", "asc")) {
            List<String> seen = new ArrayList<>();
            List<String> sortKeys = new ArrayList<>();
            String cursor = null;
            do {
                Map<String, Object> o = opts("max_results", 7, "direction", direction);
                if (cursor != null) {
                    o.put("next_cursor", cursor);
                }
                ApiResponse r = api.resources(o);
                resources(r).forEach(m -> {
                    seen.add(m.get("type") + "/" + m.get("public_id"));
                    sortKeys.add(m.get("created_at") + " " + m.get("type"));
                });
                cursor = (String) r.get("next_cursor");
            } while (cursor != null);
            assertThat(seen).hasSize(60).doesNotHaveDuplicates().noneMatch(id -> id.endsWith("v0"));
            List<String> expected = new ArrayList<>(sortKeys);
            expected.sort(direction.equals("asc") ? java.util.Comparator.naturalOrder()
                    : java.util.Comparator.<String>reverseOrder());
            assertThat(sortKeys).isEqualTo(expected); // (created_at, type) order holds across page boundaries
        }
        assertThat(emu.recentRequests().get(0).path()).isEqualTo("/v1_1/demo/resources/image");
        assertThatThrownBy(() -> api.resources(opts("prefix", "u")))
                .isExactlyInstanceOf(BadRequest.class).hasMessageContaining("prefix requires a type");
    }

    @Test
    void foreignOrMismatchedCursorIsBadRequest() throws Exception {
        seedImages("c/", 20);
        String byCreated = (String) api.resources(opts("type", "upload")).get("next_cursor");
        assertThatThrownBy(() -> api.resources(opts("type", "upload", "prefix", "c/", "next_cursor", byCreated)))
                .isExactlyInstanceOf(BadRequest.class);
        assertThatThrownBy(() -> api.resources(opts("type", "upload", "next_cursor", "garbage")))
                .isExactlyInstanceOf(BadRequest.class);
    }

    @Test
    void deleteByPrefixDeletesAtMost1000AndReportsPartial() throws Exception {
        seedImages("bulk/", 1200);
        emu.seed(Asset.image("keep/1", T0, 1));
        ApiResponse first = api.deleteResourcesByPrefix("bulk/", opts());
        assertThat(first).containsEntry("partial", true);
        assertThat((Map<?, ?>) first.get("deleted")).hasSize(1000);
        ApiResponse second = api.deleteResourcesByPrefix("bulk/", opts());
        assertThat(second).containsEntry("partial", false);
        assertThat(emu.publicIds()).containsExactly("keep/1");
    }

    @Test
    void concurrentListersAndDeletersThroughTheSdk() throws Exception {
        seedImages("k/", 2000);
        emu.setLatency(Duration.ofMillis(2));
        List<String> all = emu.publicIds();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            List<String> mine = all.subList(t * 500, (t + 1) * 500);
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < 500; i += 100) {
                        api.deleteResources(mine.subList(i, i + 100), opts());
                        api.resources(opts("type", "upload", "prefix", "k/", "max_results", 500));
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failures).isEmpty();
        assertThat(emu.assetCount()).isZero();
        assertThat(emu.deleteCalls()).isEqualTo(20);
        assertThat(emu.listCalls()).isEqualTo(20);
        assertThat(emu.totalCalls()).isEqualTo(40);
        assertThat(emu.remainingBudget()).isEqualTo(460);
    }

    @Test
    void sdkClientUsesAtMostFiveConnectionsByDefault() throws Exception {
        emu.setLatency(Duration.ofMillis(300));
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            threads.add(new Thread(() -> {
                try {
                    api.resources(opts("type", "upload"));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        // HttpClientBuilder.useSystemProperties(): http.maxConnections (default 5) per route
        assertThat(emu.peakConcurrency()).isEqualTo(5);
    }

    // ---------------------------------------------------------------- dynamic folder mode

    private Cloudinary cloudinary() {
        return new Cloudinary(emu.cloudinaryUrl());
    }

    @SuppressWarnings("unchecked")
    @Test
    void configAnswersTheFolderModeUnderSettingsOnlyWhenAskedFor() throws Exception {
        ApiResponse fixed = api.configuration(opts("settings", true));
        assertThat(fixed.get("cloud_name")).isEqualTo("demo");
        assertThat((Map<String, Object>) fixed.get("settings")).containsExactly(Map.entry("folder_mode", "fixed"));

        emu.setFolderMode(CloudinaryEmulator.FolderMode.DYNAMIC);
        ApiResponse dynamic = api.configuration(opts("settings", true));
        assertThat((Map<String, Object>) dynamic.get("settings")).containsEntry("folder_mode", "dynamic");
        assertThat(api.configuration(opts())).containsKeys("cloud_name", "created_at").doesNotContainKey("settings");
        assertThat(emu.recentRequests().get(0).path()).isEqualTo("/v1_1/demo/config");
        assertThat(emu.configCalls()).isEqualTo(3);
        assertThat(emu.remainingBudget()).isEqualTo(497);
    }

    @Test
    void dynamicAssetsAreListedByAssetFolderWithPathlessPublicIdsAndDisplayNames() throws Exception {
        emu.seed(Asset.dynamic("k3x9qz7abc", "users/u1/temp", "selfie", T0, 10),
                Asset.dynamic("p0q1r2s3t4", "users/u1/temp/deeper", "other", T0, 10),
                Asset.dynamic("z9y8x7w6v5", "users/u1/photos", "kept", T0, 10));
        ApiResponse r = api.resourcesByAssetFolder("users/u1/temp", opts("max_results", 500));
        assertThat(ids(r)).containsExactly("k3x9qz7abc");
        assertThat(resources(r).get(0)).containsEntry("asset_folder", "users/u1/temp")
                .containsEntry("display_name", "selfie");
    }

    @Test
    void searchPagesOf500WithNextCursorOverAFolderTree() throws Exception {
        List<Asset> assets = new ArrayList<>();
        for (int i = 0; i < 1200; i++) {
            assets.add(Asset.dynamic("id" + String.format("%05d", i), "users/u" + (i % 7) + "/temp", "p" + i,
                    T0.minusSeconds(i % 50), 100));
        }
        emu.seed(assets);
        emu.seed(Asset.dynamic("elsewhere", "shared/temp", "x", T0, 1));

        List<String> seen = new ArrayList<>();
        List<Integer> pageSizes = new ArrayList<>();
        String cursor = null;
        do {
            var search = cloudinary().search().expression("asset_folder:\"users/*\"").maxResults(500);
            ApiResponse page = (cursor == null ? search : search.nextCursor(cursor)).execute();
            assertThat(page.get("total_count")).isEqualTo(1200);
            pageSizes.add(resources(page).size());
            seen.addAll(ids(page));
            cursor = (String) page.get("next_cursor");
        } while (cursor != null);

        assertThat(pageSizes).containsExactly(500, 500, 200);
        assertThat(seen).doesNotHaveDuplicates().hasSize(1200).doesNotContain("elsewhere");
        assertThat(emu.searchCalls()).isEqualTo(3);
        List<CloudinaryEmulator.RecordedRequest> sent = emu.recentRequests();
        assertPostedAsJsonSearch(sent.get(sent.size() - 1)); // the last page: it carries the cursor
    }

    @Test
    void searchSortsByCreatedAtDescendingByDefaultAndBySortByWhenGiven() throws Exception {
        emu.seed(Asset.dynamic("b", "t", "b", T0.plusSeconds(2), 1), Asset.dynamic("a", "t", "a", T0, 1),
                Asset.dynamic("c", "t", "c", T0.plusSeconds(1), 1));
        assertThat(ids(cloudinary().search().expression("asset_folder=t").execute())).containsExactly("b", "c", "a");
        assertThat(ids(cloudinary().search().expression("asset_folder=t").sortBy("public_id", "asc").execute()))
                .containsExactly("a", "b", "c");
    }

    @Test
    void exactFolderExpressionReturnsOnlyThatFolderAndAMovedPhotoFollowsItsFolderNotItsPublicId() throws Exception {
        Asset moved = Asset.dynamic("m0v3d", "users/u1/temp", "moved", T0, 1);
        emu.seed(Asset.dynamic("t1", "users/u1/temp", "a", T0, 1), Asset.dynamic("p1", "users/u1/photos", "b", T0, 1),
                Asset.dynamic("t2", "users/u1/temporary", "c", T0, 1), Asset.dynamic("t3", "users/u2/temp", "d", T0, 1),
                Asset.dynamic("o1", "old/users/u1/temp", "e", T0, 1), moved);
        emu.seed(moved.withAssetFolder("users/u1/photos")); // a Media Library move: same public id

        assertThat(ids(cloudinary().search().expression("asset_folder=\"users/u1/temp\"").execute()))
                .containsExactly("t1");
        assertThat(ids(cloudinary().search().expression("asset_folder:users/u1/*").maxResults(500).execute()))
                .containsExactlyInAnyOrder("t1", "p1", "t2", "m0v3d");
        assertThat(ids(cloudinary().search().expression("asset_folder:\"users/u1/temp*\"").execute()))
                .containsExactlyInAnyOrder("t1", "t2");
    }

    @Test
    void ageConditionExcludesAssetsYoungerThanTheRetention() throws Exception {
        Instant now = Instant.parse("2024-06-25T10:15:00Z"); // the test clock
        emu.seed(Asset.dynamic("old", "users/u1/temp", "o", now.minus(Duration.ofDays(2)), 1),
                Asset.dynamic("edge", "users/u1/temp", "e", now.minus(Duration.ofDays(1)), 1),
                Asset.dynamic("young", "users/u1/temp", "y", now.minus(Duration.ofHours(1)), 1));

        assertThat(ids(cloudinary().search().expression("asset_folder:\"users/*\" AND created_at<1d").execute()))
                .containsExactly("old");
        assertThat(ids(cloudinary().search().expression("created_at<2h").execute()))
                .containsExactlyInAnyOrder("old", "edge");
        String cutoff = now.minus(Duration.ofDays(1)).toString();
        assertThat(ids(cloudinary().search()
                .expression("asset_folder=\"users/u1/temp\" AND created_at<\"" + cutoff + "\"").execute()))
                .containsExactly("old");
        assertThat(ids(cloudinary().search().expression("created_at<\"2024-06-24\"").execute()))
                .containsExactly("old");
    }

    @Test
    void unsupportedExpressionIsBadRequestWithCloudinarysErrorBody() throws Exception {
        emu.seed(Asset.dynamic("t1", "users/u1/temp", "a", T0, 1));
        for (String unsupported : List.of("asset_folder=users OR asset_folder=shared", "tags:temp",
                "asset_folder:users", "(asset_folder=users)", "created_at<3m", "asset_folder=\"users/*\"",
                "created_at<2024-06-25T00:00:00Z")) {
            assertThatThrownBy(() -> cloudinary().search().expression(unsupported).execute())
                    .as(unsupported)
                    .isExactlyInstanceOf(BadRequest.class)
                    .hasMessageContaining("Unsupported search expression");
        }

        var http = java.net.http.HttpClient.newHttpClient();
        var request = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(emu.baseUrl() + "/v1_1/demo/resources/search"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder()
                        .encodeToString("test-key:test-secret".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"expression\":\"tags:temp\"}"))
                .build();
        var response = http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(400);
        var body = new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body());
        assertThat(body.path("error").path("message").asText())
                .startsWith("Unsupported search expression \"tags:temp\"");
        assertThat(response.headers().firstValue("X-FeatureRateLimit-Remaining")).isPresent();
    }

    @Test
    void searchSpendsTheHourlyBudgetCarriesItsHeadersAndAnswers420WhenSpent() throws Exception {
        emu.seed(Asset.dynamic("t1", "users/u1/temp", "a", T0, 1));
        ApiResponse r = cloudinary().search().expression("asset_folder=\"users/u1/temp\"").execute();
        RateLimit limit = r.apiRateLimit();
        assertThat(limit.getLimit()).isEqualTo(500);
        assertThat(limit.getRemaining()).isEqualTo(499);
        assertThat(limit.getReset()).isEqualTo(Date.from(Instant.parse("2024-06-25T11:00:00Z")));

        emu.setRemainingBudget(0);
        assertThatThrownBy(() -> cloudinary().search().expression("asset_folder=x").execute())
                .isExactlyInstanceOf(RateLimited.class).hasMessage("Rate Limit Exceeded");
        assertThat(emu.rateLimitedCalls()).isEqualTo(1);

        emu.resetBudget();
        emu.failNext(1, 503);
        assertThatThrownBy(() -> cloudinary().search().expression("asset_folder=x").execute())
                .isInstanceOf(GeneralError.class);
        assertThat(cloudinary().search().expression("asset_folder=x").execute()).containsEntry("total_count", 0);
    }

    @Test
    void searchCursorFromAnotherSearchIsBadRequest() throws Exception {
        for (int i = 0; i < 3; i++) {
            emu.seed(Asset.dynamic("a" + i, "t", "n", T0, 1));
        }
        String cursor = (String) cloudinary().search().expression("asset_folder=t").maxResults(1).execute()
                .get("next_cursor");
        assertThat(cursor).isNotNull();
        assertThatThrownBy(() -> cloudinary().search().expression("asset_folder=u").nextCursor(cursor).execute())
                .isExactlyInstanceOf(BadRequest.class).hasMessageContaining("next_cursor");
    }

    // ---- backups and restore (docs/CLOUDINARY.md section 6) ------------------------------------------------------

    @SuppressWarnings("unchecked")
    private static Map<String, Object> answerFor(ApiResponse r, String publicId) {
        return (Map<String, Object>) r.get(publicId);
    }

    @Test
    void withBackupsADeleteKeepsTheAssetAndRestorePutsItBackAsItWas_oneAdminCallWithItsHeaders() throws Exception {
        emu.setBackups(true);
        Asset photo = new Asset("users/u1/temp/a", "image", "upload", T0, 4242, "png", "users/u1/temp", "a");
        emu.seed(photo);
        api.deleteResources(List.of("users/u1/temp/a"), opts());
        assertThat(emu.exists("users/u1/temp/a")).isFalse();
        assertThat(emu.hasBackup("users/u1/temp/a")).isTrue();
        long before = emu.remainingBudget();

        ApiResponse r = api.restore(List.of("users/u1/temp/a"), opts());

        Map<String, Object> restored = answerFor(r, "users/u1/temp/a");
        assertThat(restored).containsEntry("public_id", "users/u1/temp/a").containsEntry("format", "png")
                .containsEntry("created_at", "2024-06-25T08:58:23Z").doesNotContainKey("error");
        assertThat(emu.asset("image", "upload", "users/u1/temp/a")).contains(photo);
        assertThat(emu.restoreCalls()).isEqualTo(1);
        assertThat(emu.remainingBudget()).isEqualTo(before - 1);
        assertThat(r.apiRateLimit().getRemaining()).isEqualTo(before - 1);
        CloudinaryEmulator.RecordedRequest req = emu.recentRequests().get(emu.recentRequests().size() - 1);
        assertThat(req.method()).isEqualTo("POST");
        assertThat(req.path()).isEqualTo("/v1_1/demo/resources/image/upload/restore");
        assertThat(req.body()).containsEntry("public_ids[]", List.of("users/u1/temp/a"));
    }

    @Test
    void restoreAnswersEachIdOnItsOwn_noBackupForAnAccountWithoutBackups_alreadyExistsForALiveAsset()
            throws Exception {
        emu.seed(Asset.image("gone", T0, 1), Asset.image("live", T0, 2));
        api.deleteResources(List.of("gone"), opts()); // backups off: nothing kept

        ApiResponse r = api.restore(List.of("gone", "live", "never-was"), opts());

        assertThat(answerFor(r, "gone")).containsExactly(Map.entry("error", "no_backup"));
        assertThat(answerFor(r, "live")).containsExactly(Map.entry("error", "already_exists"));
        assertThat(answerFor(r, "never-was")).containsExactly(Map.entry("error", "no_backup"));
        assertThat(emu.exists("gone")).isFalse();
        assertThat(emu.hasBackup("gone")).isFalse();
    }

    @Test
    void restoringTwiceAnswersAlreadyExistsTheSecondTime_andTheBackupStaysForTheNextDelete() throws Exception {
        emu.setBackups(true);
        emu.seed(Asset.image("a", T0, 10));
        api.deleteResources(List.of("a"), opts());
        assertThat(answerFor(api.restore(List.of("a"), opts()), "a")).containsEntry("public_id", "a");
        assertThat(answerFor(api.restore(List.of("a"), opts()), "a")).containsExactly(Map.entry("error", "already_exists"));
        api.deleteResources(List.of("a"), opts());
        assertThat(answerFor(api.restore(List.of("a"), opts()), "a")).containsEntry("public_id", "a");
        assertThat(emu.exists("a")).isTrue();
    }

    @Test
    void aLookupByIdsShowsLiveAssets_andBackedUpDeletedOnesAsPlaceholders() throws Exception {
        emu.setBackups(true);
        emu.seed(Asset.image("live", T0, 5), Asset.image("deleted", T0, 7));
        api.deleteResources(List.of("deleted"), opts());

        ApiResponse r = api.resourcesByIds(List.of("live", "deleted", "never-was"), opts());

        assertThat(ids(r)).containsExactly("live", "deleted");
        assertThat(resources(r).get(0)).doesNotContainKey("placeholder");
        assertThat(((Number) resources(r).get(0).get("bytes")).longValue()).isEqualTo(5);
        assertThat(resources(r).get(1)).containsEntry("placeholder", true);
        assertThat(((Number) resources(r).get(1).get("bytes")).longValue()).isZero();
        assertThat(emu.listCalls()).isEqualTo(1);
    }

    @Test
    void restoreRefusesMoreThan100Ids_noIds_andVersionsNotAlignedWithTheIds() {
        emu.setBackups(true);
        List<String> ids = IntStream.range(0, 101).mapToObj(i -> "x" + i).collect(Collectors.toList());
        assertThatThrownBy(() -> api.restore(ids, opts())).isExactlyInstanceOf(BadRequest.class)
                .hasMessageContaining("Too many public_ids");
        assertThatThrownBy(() -> api.restore(List.of(), opts())).isExactlyInstanceOf(BadRequest.class);
        assertThatThrownBy(() -> api.restore(List.of("a", "b"), opts("versions", List.of("v1"))))
                .isExactlyInstanceOf(BadRequest.class).hasMessageContaining("one entry per public id");
        assertThat(emu.restoreCalls()).isEqualTo(3);
    }

    @Test
    void aVersionOtherThanTheBackupsFails_forThatIdOnly() throws Exception {
        emu.setBackups(true);
        emu.seed(Asset.image("a", T0, 1), Asset.image("b", T0, 2));
        api.deleteResources(List.of("a", "b"), opts());
        ApiResponse r = api.restore(List.of("a", "b"), opts("versions", List.of("not-a-version", "nor-this")));
        assertThat(answerFor(r, "a")).containsExactly(Map.entry("error", "failed"));
        assertThat(emu.exists("a")).isFalse();
    }

    @Test
    void restoreIsRateLimitedAndAuthenticatedLikeEveryAdminCall() throws Exception {
        emu.setBackups(true);
        emu.seed(Asset.image("a", T0, 1));
        api.deleteResources(List.of("a"), opts());
        emu.setRemainingBudget(0);
        assertThatThrownBy(() -> api.restore(List.of("a"), opts())).isExactlyInstanceOf(RateLimited.class);
        assertThat(emu.exists("a")).isFalse();
        emu.resetBudget();
        String wrongSecret = "cloudinary://test-key:nope@demo?upload_prefix=" + emu.baseUrl();
        assertThatThrownBy(() -> new Cloudinary(wrongSecret).api().restore(List.of("a"), opts()))
                .isExactlyInstanceOf(AuthorizationRequired.class);
        assertThat(emu.exists("a")).isFalse();
        assertThat(emu.remainingBudget()).isEqualTo(500);
        emu.failNext(1, 503);
        assertThatThrownBy(() -> api.restore(List.of("a"), opts())).isInstanceOf(GeneralError.class);
        assertThat(emu.exists("a")).isFalse();
    }

    /** How the SDK sends a search: a JSON POST to resources/search. */
    private static void assertPostedAsJsonSearch(CloudinaryEmulator.RecordedRequest r) {
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.path()).isEqualTo("/v1_1/demo/resources/search");
        assertThat(r.contentType()).startsWith("application/json");
        assertThat(r.body()).containsKeys("expression", "max_results", "next_cursor");
    }

    /** A clock the test moves by hand. */
    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
