package dev.reclaim.testing.cloudinary;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A local emulator of the parts of the Cloudinary Admin API that Reclaim uses: listing resources (by type with
 * prefix/cursor, and by asset folder), the Search API (the subset of expressions in {@link SearchExpression}),
 * the {@code config} endpoint and deleting resources, with Basic auth, the hourly Admin API rate limit and its
 * {@code X-FeatureRateLimit-*} headers, plus latency and fault injection for tests and benchmarks. The facts it
 * follows, with their sources, are in {@code docs/CLOUDINARY.md}.
 *
 * <p>The product environment has a folder mode ({@link FolderMode#FIXED} by default), which only the
 * {@code config} endpoint reports: what an asset's folder and display name are is up to the seeded
 * {@link Asset} ({@link Asset#dynamic} for dynamic-mode assets).
 *
 * <p>Point the Cloudinary SDK at it with {@link #cloudinaryUrl()} (uses the {@code upload_prefix} key). Binds
 * 127.0.0.1 on a random port; {@link #close()} stops it. Thread-safe.
 *
 * <p>A delete call carrying a public id with a control character is refused whole with HTTP 400 (Cloudinary's
 * error body), and nothing of it is deleted.
 *
 * <p>With backups on ({@link Builder#backups}, {@link #setBackups}), every delete keeps the deleted asset as its
 * backup (the last version only): {@code POST /resources/{resource_type}/{type}/restore} puts it back as it was, and
 * {@code GET /resources/{resource_type}/{type}?public_ids[]=} shows it meanwhile as a placeholder
 * ({@code placeholder: true}, {@code bytes: 0}). Off (the default), a delete leaves nothing to restore.
 *
 * <p>Every request that passes auth costs one unit of budget, whatever its outcome (400s and injected faults
 * included); 401s and rate-limited answers cost nothing. The call counters count every request received on a
 * route, whatever its outcome.
 */
public final class CloudinaryEmulator implements AutoCloseable {

    static final Set<String> RESOURCE_TYPES = Set.of("image", "video", "raw");
    static final int MAX_LIST_RESULTS = 500;
    static final int DEFAULT_LIST_RESULTS = 10;
    static final int MAX_DELETE_IDS = 100;
    static final int MAX_DELETE_BY_PREFIX = 1000;
    static final int DEFAULT_SEARCH_RESULTS = 50;
    /** Public ids per restore and per lookup by ids (an assumption for restore: docs/CLOUDINARY.md section 6). */
    static final int MAX_RESTORE_IDS = 100;
    static final int MAX_BY_IDS = 100;
    private static final int TIMEOUT_FAULT = -1;
    private static final int RECORDED_REQUESTS = 256;
    private static final DateTimeFormatter RFC_1123 =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // The JDK server writes headers and body separately; with Nagle on, the client's delayed ACK stalls each
        // answer ~40 ms. Read once when the JDK's server config loads, so set it before the first HttpServer.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    /** The product environment's folder mode, as {@code GET /config?settings=true} reports it. */
    public enum FolderMode {
        FIXED, DYNAMIC;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What a request looked like on the wire (for asserting how the SDK talks). */
    public record RecordedRequest(String method, String path, Map<String, List<String>> query,
            Map<String, List<String>> body, String contentType) {
    }

    private final String cloudName;
    private final String apiKey;
    private final String apiSecret;
    private final Clock clock;
    private final int rateLimitStatus;
    private final int errorStatus;
    private final boolean timeoutAppliesEffects;
    private final Random random;
    private final AssetStore store = new AssetStore();
    private final HttpServer server;
    private final ExecutorService executor;
    private final CountDownLatch closed = new CountDownLatch(1);

    private volatile Duration latency;
    private volatile double errorRatio;
    private volatile double timeoutRatio;
    private volatile Duration timeoutHold;
    private volatile FolderMode folderMode;
    private volatile boolean backups;
    // The backup of each deleted asset, by resource_type/type/public_id: its last version only.
    private final Map<String, Backup> backedUp = new java.util.concurrent.ConcurrentHashMap<>();
    private final Instant environmentCreatedAt;

    private final Object budgetLock = new Object();
    private long budgetLimit;
    private long budgetRemaining;
    private Instant budgetResetAt;

    private final Deque<Integer> scriptedFaults = new ArrayDeque<>();
    private final Deque<RecordedRequest> recorded = new ArrayDeque<>();

    private final AtomicInteger cursorGeneration = new AtomicInteger();
    private final AtomicLong totalCalls = new AtomicLong();
    private final AtomicLong listCalls = new AtomicLong();
    private final AtomicLong deleteCalls = new AtomicLong();
    private final AtomicLong searchCalls = new AtomicLong();
    private final AtomicLong configCalls = new AtomicLong();
    private final AtomicLong restoreCalls = new AtomicLong();
    private final AtomicLong rateLimitedCalls = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();

    private CloudinaryEmulator(Builder b) throws IOException {
        this.cloudName = b.cloudName;
        this.apiKey = b.apiKey;
        this.apiSecret = b.apiSecret;
        this.clock = b.clock;
        this.rateLimitStatus = b.rateLimitStatus;
        this.errorStatus = b.errorStatus;
        this.timeoutAppliesEffects = b.timeoutAppliesEffects;
        this.random = new Random(b.seed);
        this.latency = b.latency;
        this.errorRatio = b.errorRatio;
        this.timeoutRatio = b.timeoutRatio;
        this.timeoutHold = b.timeoutHold;
        this.folderMode = b.folderMode;
        this.backups = b.backups;
        this.environmentCreatedAt = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        this.budgetLimit = b.hourlyLimit;
        this.budgetRemaining = b.hourlyLimit;
        this.budgetResetAt = nextHour(clock.instant());

        AtomicInteger threadNo = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "cloudinary-emulator-" + threadNo.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
        this.server.setExecutor(executor);
        this.server.createContext("/", this::handle);
        this.server.start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts an emulator with all defaults (cloud "demo", key "test-key", secret "test-secret", budget 500). */
    public static CloudinaryEmulator start() {
        return builder().start();
    }

    // ---------------------------------------------------------------- connection

    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://127.0.0.1:PORT}, the value for the SDK's {@code upload_prefix}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** {@code cloudinary://KEY:SECRET@CLOUD?upload_prefix=http://127.0.0.1:PORT}. */
    public String cloudinaryUrl() {
        return "cloudinary://" + apiKey + ":" + apiSecret + "@" + cloudName + "?upload_prefix=" + baseUrl();
    }

    public String cloudName() {
        return cloudName;
    }

    public String apiKey() {
        return apiKey;
    }

    public String apiSecret() {
        return apiSecret;
    }

    // ---------------------------------------------------------------- assets

    public void seed(Asset... assets) {
        store.put(List.of(assets));
    }

    /** Adds or replaces assets (keyed by resource_type, type, public_id). One lock for the whole batch. */
    public void seed(Iterable<Asset> assets) {
        store.put(assets);
    }

    public boolean exists(String publicId) {
        return exists("image", "upload", publicId);
    }

    public boolean exists(String resourceType, String type, String publicId) {
        return store.get(resourceType, type, publicId).isPresent();
    }

    public Optional<Asset> asset(String resourceType, String type, String publicId) {
        return store.get(resourceType, type, publicId);
    }

    /** The public ids of image/upload assets, sorted. */
    public List<String> publicIds() {
        return publicIds("image", "upload");
    }

    /** The public ids of one resource_type/type, sorted. */
    public List<String> publicIds(String resourceType, String type) {
        return store.publicIds(resourceType, type);
    }

    /** All assets, every resource type and type. */
    public int assetCount() {
        return store.size();
    }

    /** Removes every asset and every backup. */
    public void clearAssets() {
        store.clear();
        backedUp.clear();
    }

    /** Removes one image/upload asset as if someone else deleted it (no API call is counted). */
    public void clearAsset(String publicId) {
        store.delete("image", "upload", List.of(publicId));
    }

    // ---------------------------------------------------------------- folder mode

    public FolderMode folderMode() {
        return folderMode;
    }

    /** What {@code GET /config?settings=true} answers from now on; the assets are left as they are. */
    public void setFolderMode(FolderMode mode) {
        this.folderMode = Objects.requireNonNull(mode, "mode");
    }

    // ---------------------------------------------------------------- backups

    /** A deleted asset as its backup keeps it, and the id of that backed-up version. */
    private record Backup(Asset asset, String versionId) {
    }

    private static String backupKey(String resourceType, String type, String publicId) {
        return resourceType + "/" + type + "/" + publicId;
    }

    public boolean backups() {
        return backups;
    }

    /** Whether deletes from now on keep a backup; the backups kept so far stay. */
    public void setBackups(boolean on) {
        this.backups = on;
    }

    /** Whether an image/upload asset has a backup to restore. */
    public boolean hasBackup(String publicId) {
        return backedUp.containsKey(backupKey("image", "upload", publicId));
    }

    // ---------------------------------------------------------------- counters

    /** Requests received on the listing routes (by type, by asset folder and search), whatever their outcome. */
    public long listCalls() {
        return listCalls.get();
    }

    /** Requests received on the search route (also counted in {@link #listCalls()}), whatever their outcome. */
    public long searchCalls() {
        return searchCalls.get();
    }

    /** Requests received on the config route, whatever their outcome. */
    public long configCalls() {
        return configCalls.get();
    }

    /** Requests received on the restore route, whatever their outcome. */
    public long restoreCalls() {
        return restoreCalls.get();
    }

    /** Requests received on the delete route, whatever their outcome. */
    public long deleteCalls() {
        return deleteCalls.get();
    }

    /** Every request received, including 401s and unknown routes. */
    public long totalCalls() {
        return totalCalls.get();
    }

    /** Requests answered with the rate-limit status because the budget was spent. */
    public long rateLimitedCalls() {
        return rateLimitedCalls.get();
    }

    /** The most requests handled at the same time since start or {@link #resetCounters()}. */
    public int peakConcurrency() {
        return peakInFlight.get();
    }

    public void resetCounters() {
        peakInFlight.set(inFlight.get());
        totalCalls.set(0);
        listCalls.set(0);
        deleteCalls.set(0);
        searchCalls.set(0);
        configCalls.set(0);
        restoreCalls.set(0);
        rateLimitedCalls.set(0);
    }

    /** The last (up to 256) requests, oldest first. */
    public List<RecordedRequest> recentRequests() {
        synchronized (recorded) {
            return List.copyOf(recorded);
        }
    }

    // ---------------------------------------------------------------- budget

    /** Refills the budget to its limit and starts a new window ending at the next full hour. */
    public void resetBudget() {
        synchronized (budgetLock) {
            budgetRemaining = budgetLimit;
            budgetResetAt = nextHour(clock.instant());
        }
    }

    public void setRemainingBudget(long remaining) {
        if (remaining < 0) {
            throw new IllegalArgumentException("remaining must be >= 0");
        }
        synchronized (budgetLock) {
            refillIfDue();
            budgetRemaining = remaining;
        }
    }

    /** Changes the hourly limit and refills the budget to it. */
    public void setBudgetLimit(long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0");
        }
        synchronized (budgetLock) {
            budgetLimit = limit;
            budgetRemaining = limit;
            budgetResetAt = nextHour(clock.instant());
        }
    }

    public long remainingBudget() {
        synchronized (budgetLock) {
            refillIfDue();
            return budgetRemaining;
        }
    }

    public long budgetLimit() {
        synchronized (budgetLock) {
            return budgetLimit;
        }
    }

    public Instant budgetResetAt() {
        synchronized (budgetLock) {
            refillIfDue();
            return budgetResetAt;
        }
    }

    // ---------------------------------------------------------------- faults

    /** The next {@code count} authenticated, in-budget requests are answered with {@code status} and a JSON error. */
    public void failNext(int count, int status) {
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("status must be 4xx or 5xx");
        }
        synchronized (scriptedFaults) {
            for (int i = 0; i < count; i++) {
                scriptedFaults.addLast(status);
            }
        }
    }

    /** The next {@code count} authenticated, in-budget requests are held for the timeout hold. */
    public void timeoutNext(int count) {
        synchronized (scriptedFaults) {
            for (int i = 0; i < count; i++) {
                scriptedFaults.addLast(TIMEOUT_FAULT);
            }
        }
    }

    /**
     * Every {@code next_cursor} issued so far is refused from now on (HTTP 400, as a malformed one): Cloudinary does not
     * document how long a cursor stays valid (docs/CLOUDINARY.md section 7), so a test says when one stops being.
     * Without this call the emulator's cursors stay valid for ever.
     */
    public void expireCursors() {
        cursorGeneration.incrementAndGet();
    }

    public void clearScriptedFaults() {
        synchronized (scriptedFaults) {
            scriptedFaults.clear();
        }
    }

    public void setLatency(Duration latency) {
        this.latency = requireNonNegative(latency, "latency");
    }

    public void setErrorRatio(double ratio) {
        this.errorRatio = requireRatio(ratio);
    }

    public void setTimeoutRatio(double ratio) {
        this.timeoutRatio = requireRatio(ratio);
    }

    public void setTimeoutHold(Duration hold) {
        this.timeoutHold = requireNonNegative(hold, "hold");
    }

    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ================================================================ HTTP

    private static final class Reply {
        final int status;
        final byte[] body;

        Reply(int status, byte[] body) {
            this.status = status;
            this.body = body;
        }
    }

    private enum Route { LIST, LIST_ALL_TYPES, LIST_FOLDER, SEARCH, CONFIG, DELETE, RESTORE, UNKNOWN }

    /** Thrown inside request handling to answer with a JSON error. */
    private static final class ApiError extends RuntimeException {
        final int status;

        ApiError(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** A 400 with Cloudinary's error body, for the package's parsers. */
    static RuntimeException badRequest(String message) {
        return new ApiError(400, message);
    }

    private void handle(HttpExchange ex) {
        peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        unanswered.add(ex);
        try {
            serve(ex);
        } catch (Throwable t) {
            try {
                send(ex, new Reply(500, error("Internal emulator error: " + t)), budgetSnapshot(false));
            } catch (Throwable ignored) {
                // client gone
            }
        } finally {
            answered(ex);
            ex.close();
        }
    }

    // Exchanges counted in flight (not exchange attributes: on JDK 17 those belong to the whole context).
    private final java.util.Set<HttpExchange> unanswered = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A request stops counting as in flight before its answer goes out: once the client has it, it may reuse the
     * connection at once, and that next request must not overlap this one in the count.
     */
    private void answered(HttpExchange ex) {
        if (unanswered.remove(ex)) {
            inFlight.decrementAndGet();
        }
    }

    private void serve(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
        String rawPath = ex.getRequestURI().getRawPath();
        Map<String, List<String>> query = parseForm(ex.getRequestURI().getRawQuery());
        Map<String, List<String>> body = readBody(ex);
        String contentType = ex.getRequestHeaders().getFirst("Content-Type");
        record(new RecordedRequest(method, rawPath, query, body, contentType));

        Map<String, List<String>> params = new LinkedHashMap<>(query);
        body.forEach((k, v) -> params.merge(k, v, (a, b) -> {
            List<String> all = new ArrayList<>(a);
            all.addAll(b);
            return all;
        }));
        if ("POST".equals(method) && "delete".equalsIgnoreCase(first(params, "_method"))) {
            method = "DELETE"; // what the SDK sends for DELETE: POST with _method=delete in the form body
        }

        List<String> segments = segments(rawPath);
        Route route = route(method, segments);
        totalCalls.incrementAndGet();
        if (route == Route.LIST || route == Route.LIST_ALL_TYPES || route == Route.LIST_FOLDER
                || route == Route.SEARCH) {
            listCalls.incrementAndGet();
            if (route == Route.SEARCH) {
                searchCalls.incrementAndGet();
            }
        } else if (route == Route.DELETE) {
            deleteCalls.incrementAndGet();
        } else if (route == Route.CONFIG) {
            configCalls.incrementAndGet();
        } else if (route == Route.RESTORE) {
            restoreCalls.incrementAndGet();
        }

        if (!pause(latency)) {
            return;
        }

        String authProblem = authProblem(ex.getRequestHeaders().getFirst("Authorization"), segments);
        if (authProblem != null) {
            send(ex, new Reply(401, error(authProblem)), budgetSnapshot(false));
            return;
        }

        long[] budget = budgetSnapshot(true);
        if (budget == null) {
            rateLimitedCalls.incrementAndGet();
            send(ex, new Reply(rateLimitStatus, error("Rate Limit Exceeded")), budgetSnapshot(false));
            return;
        }

        int fault = nextFault();
        if (fault > 0) {
            String message = fault == 420 || fault == 429 ? "Rate Limit Exceeded"
                    : "Injected failure (HTTP " + fault + ")";
            send(ex, new Reply(fault, error(message)), budget);
            return;
        }
        if (fault == TIMEOUT_FAULT) {
            Reply reply = timeoutAppliesEffects ? dispatch(route, segments, params)
                    : new Reply(504, error("Injected timeout"));
            if (pause(timeoutHold)) {
                send(ex, reply, budget);
            }
            return;
        }
        send(ex, dispatch(route, segments, params), budget);
    }

    private Reply dispatch(Route route, List<String> segments, Map<String, List<String>> params) {
        try {
            switch (route) {
                case LIST:
                    return list(segments.get(3), segments.get(4), params);
                case LIST_ALL_TYPES:
                    return listAllTypes(segments.get(3), params);
                case LIST_FOLDER:
                    return listFolder(params);
                case SEARCH:
                    return search(params);
                case CONFIG:
                    return config(params);
                case DELETE:
                    return delete(segments.get(3), segments.get(4), params);
                case RESTORE:
                    return restore(segments.get(3), segments.get(4), params);
                default:
                    throw new ApiError(404, "Resource not found - " + String.join("/", segments));
            }
        } catch (ApiError e) {
            return new Reply(e.status, error(e.getMessage()));
        }
    }

    private static Route route(String method, List<String> s) {
        // s = [v1_1, cloud, resources, ...] or [v1_1, cloud, config]
        if (s.size() == 3 && "v1_1".equals(s.get(0)) && "config".equals(s.get(2)) && "GET".equals(method)) {
            return Route.CONFIG;
        }
        if (s.size() == 4 && "v1_1".equals(s.get(0)) && "resources".equals(s.get(2)) && "search".equals(s.get(3))
                && ("POST".equals(method) || "GET".equals(method))) {
            return Route.SEARCH;
        }
        if (s.size() < 4 || !"v1_1".equals(s.get(0)) || !"resources".equals(s.get(2))) {
            return Route.UNKNOWN;
        }
        if ("GET".equals(method)) {
            if (s.size() == 4 && "by_asset_folder".equals(s.get(3))) {
                return Route.LIST_FOLDER;
            }
            if (s.size() == 4) {
                return Route.LIST_ALL_TYPES;
            }
            if (s.size() == 5) {
                return Route.LIST;
            }
        } else if ("DELETE".equals(method) && s.size() == 5) {
            return Route.DELETE;
        } else if ("POST".equals(method) && s.size() == 6 && "restore".equals(s.get(5))) {
            return Route.RESTORE;
        }
        return Route.UNKNOWN;
    }

    private String authProblem(String header, List<String> segments) {
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return "Must supply api_key";
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return "Invalid Authorization header";
        }
        int colon = decoded.indexOf(':');
        String key = colon < 0 ? decoded : decoded.substring(0, colon);
        String secret = colon < 0 ? "" : decoded.substring(colon + 1);
        if (key.isEmpty()) {
            return "Must supply api_key";
        }
        if (!key.equals(apiKey)) {
            return "Unknown API key " + key;
        }
        if (!secret.equals(apiSecret)) {
            return "api_secret mismatch";
        }
        if (segments.size() < 2 || !cloudName.equals(segments.get(1))) {
            return "Invalid cloud_name " + (segments.size() < 2 ? "" : segments.get(1));
        }
        return null;
    }

    // ---------------------------------------------------------------- budget internals

    private static Instant nextHour(Instant now) {
        return now.truncatedTo(ChronoUnit.HOURS).plus(1, ChronoUnit.HOURS);
    }

    private void refillIfDue() {
        Instant now = clock.instant();
        if (!now.isBefore(budgetResetAt)) {
            budgetRemaining = budgetLimit;
            budgetResetAt = nextHour(now);
        }
    }

    /**
     * {limit, remaining, resetEpochSecond}. With {@code consume}, takes one unit first and answers null when
     * the budget is spent.
     */
    private long[] budgetSnapshot(boolean consume) {
        synchronized (budgetLock) {
            refillIfDue();
            if (consume) {
                if (budgetRemaining <= 0) {
                    return null;
                }
                budgetRemaining--;
            }
            return new long[] {budgetLimit, budgetRemaining, budgetResetAt.getEpochSecond()};
        }
    }

    /** A scripted fault, else a random one: status (>0), TIMEOUT_FAULT, or 0 for none. */
    private int nextFault() {
        synchronized (scriptedFaults) {
            Integer scripted = scriptedFaults.pollFirst();
            if (scripted != null) {
                return scripted;
            }
        }
        double timeoutDraw;
        double errorDraw;
        synchronized (random) { // always two draws per request: the sequence depends only on request order
            timeoutDraw = random.nextDouble();
            errorDraw = random.nextDouble();
        }
        if (timeoutDraw < timeoutRatio) {
            return TIMEOUT_FAULT;
        }
        if (errorDraw < errorRatio) {
            return errorStatus;
        }
        return 0;
    }

    // ---------------------------------------------------------------- operations

    /** max_results as Cloudinary checks it: 1 to 500, {@code dflt} when absent (listings and search differ). */
    private static int maxResults(Map<String, List<String>> params, int dflt) {
        String raw = first(params, "max_results");
        if (raw == null || raw.isEmpty()) {
            return dflt;
        }
        int n;
        try {
            n = Integer.parseInt(raw.trim());
        } catch (NumberFormatException e) {
            throw new ApiError(400, "Invalid max_results " + raw);
        }
        if (n < 1 || n > MAX_LIST_RESULTS) {
            throw new ApiError(400, "max_results should be between 1 and " + MAX_LIST_RESULTS + ", got " + n);
        }
        return n;
    }

    private static boolean descending(Map<String, List<String>> params) {
        String d = first(params, "direction");
        if (d == null || d.isEmpty() || d.equals("desc") || d.equals("-1")) {
            return true;
        }
        if (d.equals("asc") || d.equals("1")) {
            return false;
        }
        throw new ApiError(400, "Invalid direction " + d);
    }

    private static void checkResourceType(String resourceType) {
        if (!RESOURCE_TYPES.contains(resourceType)) {
            throw new ApiError(400, "Invalid resource type " + resourceType);
        }
    }

    private Reply list(String resourceType, String type, Map<String, List<String>> params) {
        checkResourceType(resourceType);
        List<String> byIds = publicIds(params);
        if (!byIds.isEmpty()) {
            return listByIds(resourceType, type, byIds);
        }
        int max = maxResults(params, DEFAULT_LIST_RESULTS);
        String prefix = first(params, "prefix");
        String cursor = first(params, "next_cursor");
        AssetStore.Page page;
        if (prefix != null) { // with a prefix the order is public_id ascending and direction is ignored
            List<String> c = decodeCursor(cursor, "p", 1);
            page = store.listByPrefix(resourceType, type, prefix, c == null ? null : c.get(0), max);
            return listReply(page, page.next() == null ? null : encodeCursor("p", page.next().publicId()));
        }
        boolean desc = descending(params);
        String mode = desc ? "cd" : "ca";
        List<String> c = decodeCursor(cursor, mode, 2);
        Asset after = c == null ? null : AssetStore.probe(epoch(c.get(0)), resourceType, type, c.get(1));
        page = store.listByCreated(resourceType, type, desc, after, max);
        Asset next = page.next();
        return listReply(page, next == null ? null
                : encodeCursor(mode, String.valueOf(next.createdAt().getEpochSecond()), next.publicId()));
    }

    private Reply listAllTypes(String resourceType, Map<String, List<String>> params) {
        checkResourceType(resourceType);
        if (first(params, "prefix") != null) {
            // Cloudinary documents prefix together with a delivery type; refuse rather than silently list all
            throw new ApiError(400, "prefix requires a type in the path (emulator restriction)");
        }
        int max = maxResults(params, DEFAULT_LIST_RESULTS);
        boolean desc = descending(params);
        String mode = desc ? "td" : "ta";
        List<String> c = decodeCursor(first(params, "next_cursor"), mode, 3);
        Asset after = c == null ? null : AssetStore.probe(epoch(c.get(0)), resourceType, c.get(1), c.get(2));
        AssetStore.Page page = store.listResourceType(resourceType, desc, after, max);
        Asset next = page.next();
        return listReply(page, next == null ? null : encodeCursor(mode,
                String.valueOf(next.createdAt().getEpochSecond()), next.type(), next.publicId()));
    }

    private Reply listFolder(Map<String, List<String>> params) {
        String folder = first(params, "asset_folder");
        if (folder == null) {
            throw new ApiError(400, "Missing required parameter - asset_folder");
        }
        int max = maxResults(params, DEFAULT_LIST_RESULTS);
        boolean desc = descending(params);
        String mode = desc ? "fd" : "fa";
        List<String> c = decodeCursor(first(params, "next_cursor"), mode, 4);
        Asset after = c == null ? null : AssetStore.probe(epoch(c.get(0)), c.get(1), c.get(2), c.get(3));
        AssetStore.Page page = store.listFolder(folder, desc, after, max);
        Asset next = page.next();
        return listReply(page, next == null ? null : encodeCursor(mode,
                String.valueOf(next.createdAt().getEpochSecond()), next.resourceType(), next.type(),
                next.publicId()));
    }

    /** {@code GET /config}: cloud name and creation time, plus {@code settings.folder_mode} with settings=true. */
    private Reply config(Map<String, List<String>> params) {
        boolean settings = "true".equalsIgnoreCase(first(params, "settings"));
        return new Reply(200, json(g -> {
            g.writeStartObject();
            g.writeStringField("cloud_name", cloudName);
            g.writeStringField("created_at", environmentCreatedAt.toString());
            if (settings) {
                g.writeObjectFieldStart("settings");
                g.writeStringField("folder_mode", folderMode.wire());
                g.writeEndObject();
            }
            g.writeEndObject();
        }));
    }

    /**
     * {@code POST (or GET) /resources/search}: every resource type and type, filtered by the expression (all
     * assets without one), sorted by {@code sort_by} (default created_at desc; ties by resource_type, type,
     * public_id ascending), paged by {@code max_results} (default 50, at most 500) and {@code next_cursor}.
     */
    private Reply search(Map<String, List<String>> params) {
        String raw = first(params, "expression");
        SearchExpression expression = SearchExpression.parse(raw == null ? "" : raw, clock.instant());
        int max = maxResults(params, DEFAULT_SEARCH_RESULTS);
        SearchOrder order = SearchOrder.of(params.get("sort_by[]"));
        String queryKey = Integer.toHexString(Objects.hash(raw == null ? "" : raw.trim(), order.wire()));
        List<String> c = decodeCursor(first(params, "next_cursor"), "s", 5);
        if (c != null && !c.get(0).equals(queryKey)) {
            throw new ApiError(400, "Invalid next_cursor: it belongs to another search");
        }
        Asset after = c == null ? null : AssetStore.probe(epoch(c.get(1)), c.get(2), c.get(3), c.get(4));
        AssetStore.SearchPage page = store.search(expression::matches, order.comparator(), after, max);
        Asset next = page.next();
        String nextCursor = next == null ? null : encodeCursor("s", queryKey,
                String.valueOf(next.createdAt().getEpochSecond()), next.resourceType(), next.type(), next.publicId());
        return new Reply(200, json(g -> {
            g.writeStartObject();
            g.writeNumberField("total_count", page.total());
            g.writeNumberField("time", 1);
            g.writeArrayFieldStart("resources");
            for (Asset a : page.assets()) {
                writeResource(g, a);
            }
            g.writeEndArray();
            if (nextCursor != null) {
                g.writeStringField("next_cursor", nextCursor);
            }
            g.writeEndObject();
        }));
    }

    /** The search's sort_by: one field (created_at or public_id) and a direction. */
    private record SearchOrder(String field, boolean descending) {

        static SearchOrder of(List<String> sortBy) {
            if (sortBy == null || sortBy.isEmpty()) {
                return new SearchOrder("created_at", true);
            }
            if (sortBy.size() > 1) {
                throw new ApiError(400, "sort_by with more than one field is not supported (emulator restriction)");
            }
            JsonNode node;
            try {
                node = JSON.readTree(sortBy.get(0));
            } catch (IOException e) {
                throw new ApiError(400, "Invalid sort_by " + sortBy.get(0));
            }
            if (node == null || !node.isObject() || node.size() != 1) {
                throw new ApiError(400, "Invalid sort_by " + sortBy.get(0));
            }
            Map.Entry<String, JsonNode> e = node.fields().next();
            String field = e.getKey();
            String dir = e.getValue().asText();
            if (!field.equals("created_at") && !field.equals("public_id")) {
                throw new ApiError(400, "sort_by " + field + " is not supported (emulator restriction)");
            }
            if (!dir.equals("asc") && !dir.equals("desc")) {
                throw new ApiError(400, "Invalid sort_by direction " + dir);
            }
            return new SearchOrder(field, dir.equals("desc"));
        }

        String wire() {
            return field + (descending ? ":desc" : ":asc");
        }

        Comparator<Asset> comparator() {
            Comparator<Asset> primary = field.equals("public_id")
                    ? Comparator.comparing(Asset::publicId) : Comparator.comparing(Asset::createdAt);
            if (descending) {
                primary = primary.reversed();
            }
            return primary.thenComparing(Asset::createdAt).thenComparing(AssetStore.BY_CREATED_FULL);
        }
    }

    /** The request's public ids, as the SDK's form ({@code public_ids[]}) or plain and JSON bodies send them. */
    private static List<String> publicIds(Map<String, List<String>> params) {
        List<String> ids = new ArrayList<>();
        List<String> bracketed = params.get("public_ids[]");
        if (bracketed != null) {
            ids.addAll(bracketed);
        }
        List<String> plain = params.get("public_ids");
        if (plain != null) {
            ids.addAll(plain);
        }
        return ids;
    }

    /**
     * {@code GET /resources/{rt}/{type}?public_ids[]=}: the live assets among the ids, and with a backup the deleted
     * ones as placeholders (bytes 0); the others are left out. At most 100 ids.
     */
    private Reply listByIds(String resourceType, String type, List<String> ids) {
        if (ids.size() > MAX_BY_IDS) {
            throw new ApiError(400, "Too many public_ids: " + ids.size() + ", the maximum is " + MAX_BY_IDS);
        }
        return new Reply(200, json(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("resources");
            for (String id : new java.util.LinkedHashSet<>(ids)) {
                Optional<Asset> live = store.get(resourceType, type, id);
                Backup backup = backedUp.get(backupKey(resourceType, type, id));
                if (live.isPresent()) {
                    writeResource(g, live.get());
                } else if (backup != null) {
                    writeResource(g, backup.asset(), true);
                }
            }
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    /**
     * {@code POST /resources/{rt}/{type}/restore}: per id, the backed-up asset put back as it was deleted and its
     * resource, or {@code {"error": ...}}: {@code no_backup}, {@code already_exists} (the asset is there; our choice,
     * the real answer is unverified), {@code failed} (a {@code versions[]} entry that is not the backup's version).
     */
    private Reply restore(String resourceType, String type, Map<String, List<String>> params) {
        checkResourceType(resourceType);
        List<String> ids = publicIds(params);
        if (ids.isEmpty()) {
            throw new ApiError(400, "Missing required parameter - public_ids");
        }
        if (ids.size() > MAX_RESTORE_IDS) {
            throw new ApiError(400, "Too many public_ids: " + ids.size() + ", the maximum is " + MAX_RESTORE_IDS);
        }
        List<String> versions = new ArrayList<>(Objects.requireNonNullElse(params.get("versions[]"), List.of()));
        versions.addAll(Objects.requireNonNullElse(params.get("versions"), List.of()));
        versions.removeIf(String::isBlank); // SDK 1.39.0 sends an empty versions= when it was given none
        if (!versions.isEmpty() && versions.size() != ids.size()) {
            throw new ApiError(400, "versions must have one entry per public id (" + ids.size() + "), got "
                    + versions.size());
        }
        Map<String, Object> answers = new LinkedHashMap<>();
        for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i);
            Backup backup = backedUp.get(backupKey(resourceType, type, id));
            if (store.get(resourceType, type, id).isPresent()) {
                answers.put(id, "already_exists");
            } else if (backup == null) {
                answers.put(id, "no_backup");
            } else if (!versions.isEmpty() && !versions.get(i).equals(backup.versionId())) {
                answers.put(id, "failed");
            } else if (store.putIfAbsent(backup.asset())) {
                answers.put(id, backup.asset());
            } else {
                answers.put(id, "already_exists");
            }
        }
        return new Reply(200, json(g -> {
            g.writeStartObject();
            for (Map.Entry<String, Object> e : answers.entrySet()) {
                g.writeFieldName(e.getKey());
                if (e.getValue() instanceof Asset a) {
                    writeResource(g, a);
                } else {
                    g.writeStartObject();
                    g.writeStringField("error", (String) e.getValue());
                    g.writeEndObject();
                }
            }
            g.writeEndObject();
        }));
    }

    /** With backups on, what a delete removes becomes its backup (the last version only). */
    private void keepBackup(Asset removed) {
        if (backups) {
            backedUp.put(backupKey(removed.resourceType(), removed.type(), removed.publicId()), new Backup(removed,
                    UUID.nameUUIDFromBytes((removed.publicId() + "@" + clock.instant()).getBytes(StandardCharsets.UTF_8))
                            .toString().replace("-", "")));
        }
    }

    private Reply delete(String resourceType, String type, Map<String, List<String>> params) {
        checkResourceType(resourceType);
        List<String> ids = publicIds(params);
        String prefix = first(params, "prefix");
        boolean all = "true".equalsIgnoreCase(first(params, "all"));
        AssetStore.DeleteOutcome outcome;
        if (!ids.isEmpty()) {
            if (ids.size() > MAX_DELETE_IDS) {
                throw new ApiError(400, "Too many public_ids: " + ids.size() + ", the maximum is " + MAX_DELETE_IDS);
            }
            for (String id : ids) {
                if (hasControlCharacter(id)) {
                    // A public id can never hold one; the whole call is refused and nothing of it is deleted.
                    throw new ApiError(400, "Invalid public_id " + printable(id) + ": control characters are not allowed");
                }
            }
            outcome = store.delete(resourceType, type, ids, this::keepBackup);
        } else if (prefix != null && !prefix.isEmpty()) {
            outcome = store.deleteByPrefix(resourceType, type, prefix, MAX_DELETE_BY_PREFIX, this::keepBackup);
        } else if (all) {
            outcome = store.deleteByPrefix(resourceType, type, "", MAX_DELETE_BY_PREFIX, this::keepBackup);
        } else {
            throw new ApiError(400, "Missing required parameter - public_ids");
        }
        return new Reply(200, json(g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("deleted");
            for (Map.Entry<String, Boolean> e : outcome.deleted().entrySet()) {
                g.writeStringField(e.getKey(), e.getValue() ? "deleted" : "not_found");
            }
            g.writeEndObject();
            g.writeObjectFieldStart("deleted_counts");
            for (Map.Entry<String, Boolean> e : outcome.deleted().entrySet()) {
                g.writeObjectFieldStart(e.getKey());
                g.writeNumberField("original", e.getValue() ? 1 : 0);
                g.writeNumberField("derived", 0);
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeBooleanField("partial", outcome.partial());
            if (outcome.partial()) {
                g.writeStringField("next_cursor", encodeCursor("x", "more"));
            }
            g.writeEndObject();
        }));
    }

    private static boolean hasControlCharacter(String s) {
        return s.chars().anyMatch(Character::isISOControl);
    }

    /** The id with control characters written as \\uXXXX, as an error message can carry them. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        s.chars().forEach(c -> b.append(Character.isISOControl(c) ? String.format("\\u%04x", c) : String.valueOf((char) c)));
        return b.toString();
    }

    private Reply listReply(AssetStore.Page page, String nextCursor) {
        return new Reply(200, json(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("resources");
            for (Asset a : page.assets()) {
                writeResource(g, a);
            }
            g.writeEndArray();
            if (nextCursor != null) {
                g.writeStringField("next_cursor", nextCursor);
            }
            g.writeEndObject();
        }));
    }

    private void writeResource(JsonGenerator g, Asset a) throws IOException {
        writeResource(g, a, false);
    }

    /** {@code placeholder}: a deleted asset that has a backup, as a lookup shows it (bytes 0). */
    private void writeResource(JsonGenerator g, Asset a, boolean placeholder) throws IOException {
        long version = a.createdAt().getEpochSecond();
        String path = cloudName + "/" + a.resourceType() + "/" + a.type() + "/v" + version + "/" + a.publicId()
                + (a.format() == null ? "" : "." + a.format());
        g.writeStartObject();
        g.writeStringField("asset_id", UUID.nameUUIDFromBytes(
                (a.resourceType() + "/" + a.type() + "/" + a.publicId()).getBytes(StandardCharsets.UTF_8))
                .toString().replace("-", ""));
        g.writeStringField("public_id", a.publicId());
        if (a.format() != null) {
            g.writeStringField("format", a.format());
        }
        g.writeNumberField("version", version);
        g.writeStringField("resource_type", a.resourceType());
        g.writeStringField("type", a.type());
        g.writeStringField("created_at", a.createdAt().toString());
        g.writeNumberField("bytes", placeholder ? 0 : a.bytes());
        if (placeholder) {
            g.writeBooleanField("placeholder", true);
        }
        g.writeStringField("asset_folder", a.assetFolder());
        g.writeStringField("display_name", a.displayName());
        g.writeStringField("url", "http://res.cloudinary.com/" + path);
        g.writeStringField("secure_url", "https://res.cloudinary.com/" + path);
        g.writeEndObject();
    }

    // ---------------------------------------------------------------- cursors

    private String encodeCursor(String mode, String... fields) {
        List<String> all = new ArrayList<>(fields.length + 2);
        all.add(mode);
        all.add(Integer.toString(cursorGeneration.get()));
        all.addAll(List.of(fields));
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(all));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The cursor's fields after its mode and generation, or null for no cursor; 400 when it is not one of ours for
     * this query, or was issued before {@link #expireCursors()}.
     */
    private List<String> decodeCursor(String cursor, String mode, int fields) {
        if (cursor == null || cursor.isEmpty()) {
            return null;
        }
        boolean expired = false;
        try {
            JsonNode node = JSON.readTree(Base64.getUrlDecoder().decode(cursor));
            if (node.isArray() && node.size() == fields + 2 && mode.equals(node.get(0).asText())) {
                expired = Integer.parseInt(node.get(1).asText()) < cursorGeneration.get();
                if (!expired) {
                    List<String> out = new ArrayList<>(fields);
                    for (int i = 2; i < fields + 2; i++) {
                        out.add(node.get(i).asText());
                    }
                    return out;
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            // fall through
        }
        throw new ApiError(400, expired ? "Invalid next_cursor: it has expired" : "Invalid next_cursor " + cursor);
    }

    private static Instant epoch(String seconds) {
        try {
            return Instant.ofEpochSecond(Long.parseLong(seconds));
        } catch (NumberFormatException e) {
            throw new ApiError(400, "Invalid next_cursor");
        }
    }

    // ---------------------------------------------------------------- plumbing

    private interface JsonWriter {
        void write(JsonGenerator g) throws IOException;
    }

    private static byte[] json(JsonWriter writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            writer.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static byte[] error(String message) {
        return json(g -> {
            g.writeStartObject();
            g.writeObjectFieldStart("error");
            g.writeStringField("message", message);
            g.writeEndObject();
            g.writeEndObject();
        });
    }

    private void send(HttpExchange ex, Reply reply, long[] budget) throws IOException {
        var headers = ex.getResponseHeaders();
        headers.set("Content-Type", "application/json; charset=utf-8");
        headers.set("X-FeatureRateLimit-Limit", Long.toString(budget[0]));
        headers.set("X-FeatureRateLimit-Remaining", Long.toString(budget[1]));
        headers.set("X-FeatureRateLimit-Reset", RFC_1123.format(Instant.ofEpochSecond(budget[2])));
        answered(ex);
        ex.sendResponseHeaders(reply.status, reply.body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(reply.body);
        }
    }

    private void record(RecordedRequest r) {
        synchronized (recorded) {
            if (recorded.size() == RECORDED_REQUESTS) {
                recorded.removeFirst();
            }
            recorded.addLast(r);
        }
    }

    /** Sleeps; false when the emulator was closed meanwhile. */
    private boolean pause(Duration d) {
        if (d.isZero()) {
            return true;
        }
        try {
            return !closed.await(d.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static Map<String, List<String>> readBody(HttpExchange ex) throws IOException {
        byte[] bytes;
        try (InputStream in = ex.getRequestBody()) {
            bytes = in.readAllBytes();
        }
        if (bytes.length == 0) {
            return Map.of();
        }
        String contentType = Objects.toString(ex.getRequestHeaders().getFirst("Content-Type"), "")
                .toLowerCase(Locale.ROOT);
        if (contentType.startsWith("application/json")) {
            Map<String, List<String>> out = new LinkedHashMap<>();
            JsonNode node = JSON.readTree(bytes);
            if (node != null && node.isObject()) {
                node.fields().forEachRemaining(e -> {
                    List<String> values = new ArrayList<>();
                    if (e.getValue().isArray()) {
                        // objects in arrays (the search's sort_by) stay JSON text
                        e.getValue().forEach(v -> values.add(v.isValueNode() ? v.asText() : v.toString()));
                        out.put(e.getKey() + "[]", values);
                    } else {
                        values.add(e.getValue().asText());
                        out.put(e.getKey(), values);
                    }
                });
            }
            return out;
        }
        return parseForm(new String(bytes, StandardCharsets.UTF_8));
    }

    static Map<String, List<String>> parseForm(String raw) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return out;
    }

    private static List<String> segments(String rawPath) {
        List<String> out = new ArrayList<>();
        for (String s : rawPath.split("/")) {
            if (!s.isEmpty()) {
                out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static String first(Map<String, List<String>> params, String key) {
        List<String> v = params.get(key);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    private static Duration requireNonNegative(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must be >= 0");
        }
        return d;
    }

    private static double requireRatio(double ratio) {
        if (!(ratio >= 0 && ratio <= 1)) {
            throw new IllegalArgumentException("ratio must be within [0, 1]");
        }
        return ratio;
    }

    // ================================================================ builder

    public static final class Builder {
        private String cloudName = "demo";
        private String apiKey = "test-key";
        private String apiSecret = "test-secret";
        private long hourlyLimit = 500;
        private int rateLimitStatus = 420;
        private Duration latency = Duration.ZERO;
        private double errorRatio;
        private int errorStatus = 500;
        private double timeoutRatio;
        private Duration timeoutHold = Duration.ofSeconds(30);
        private boolean timeoutAppliesEffects = true;
        private long seed = 42;
        private Clock clock = Clock.systemUTC();
        private FolderMode folderMode = FolderMode.FIXED;
        private boolean backups;

        private Builder() {
        }

        /** Whether deletes keep a backup of the deleted asset, so it can be restored (default false: no backups). */
        public Builder backups(boolean v) {
            this.backups = v;
            return this;
        }

        /** The folder mode the config endpoint reports (default fixed). */
        public Builder folderMode(FolderMode v) {
            this.folderMode = Objects.requireNonNull(v, "folderMode");
            return this;
        }

        public Builder cloudName(String v) {
            this.cloudName = requireToken(v, "cloudName");
            return this;
        }

        public Builder apiKey(String v) {
            this.apiKey = requireToken(v, "apiKey");
            return this;
        }

        public Builder apiSecret(String v) {
            this.apiSecret = requireToken(v, "apiSecret");
            return this;
        }

        /** Admin API calls allowed per hour (default 500). */
        public Builder hourlyLimit(long v) {
            if (v < 0) {
                throw new IllegalArgumentException("hourlyLimit must be >= 0");
            }
            this.hourlyLimit = v;
            return this;
        }

        /** Status when the budget is spent: 420 (Cloudinary's, default) or 429. */
        public Builder rateLimitStatus(int v) {
            if (v != 420 && v != 429) {
                throw new IllegalArgumentException("rateLimitStatus must be 420 or 429");
            }
            this.rateLimitStatus = v;
            return this;
        }

        /** Added to every request before it is answered. */
        public Builder latency(Duration v) {
            this.latency = requireNonNegative(v, "latency");
            return this;
        }

        /** Share of authenticated in-budget requests answered with {@link #errorStatus(int)} (default 0). */
        public Builder errorRatio(double v) {
            this.errorRatio = requireRatio(v);
            return this;
        }

        /** Status of randomly injected errors (default 500). */
        public Builder errorStatus(int v) {
            if (v < 400 || v > 599) {
                throw new IllegalArgumentException("errorStatus must be 4xx or 5xx");
            }
            this.errorStatus = v;
            return this;
        }

        /** Share of authenticated in-budget requests held for {@link #timeoutHold(Duration)} (default 0). */
        public Builder timeoutRatio(double v) {
            this.timeoutRatio = requireRatio(v);
            return this;
        }

        /** How long a timed-out request is held before it is answered (default 30 s). */
        public Builder timeoutHold(Duration v) {
            this.timeoutHold = requireNonNegative(v, "timeoutHold");
            return this;
        }

        /**
         * true (default): a timed-out request is carried out (e.g. the delete happens) and only its answer is
         * late, like a real slow server. false: it is not carried out and answers 504 after the hold.
         */
        public Builder timeoutAppliesEffects(boolean v) {
            this.timeoutAppliesEffects = v;
            return this;
        }

        /** Seed of the fault-injection random sequence (default 42). */
        public Builder seed(long v) {
            this.seed = v;
            return this;
        }

        /** Clock of the hourly budget window (default system UTC). */
        public Builder clock(Clock v) {
            this.clock = Objects.requireNonNull(v, "clock");
            return this;
        }

        public CloudinaryEmulator start() {
            try {
                return new CloudinaryEmulator(this);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start Cloudinary emulator", e);
            }
        }

        private static String requireToken(String v, String what) {
            if (v == null || v.isEmpty() || v.contains(":") || v.contains("@") || v.contains("/")) {
                throw new IllegalArgumentException(what + " must be non-empty without ':', '@' or '/'");
            }
            return v;
        }
    }
}
