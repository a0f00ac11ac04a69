package dev.reclaim.store;

import com.cloudinary.Api;
import com.cloudinary.Cloudinary;
import com.cloudinary.api.ApiResponse;
import com.cloudinary.api.RateLimit;
import com.cloudinary.api.exceptions.BadRequest;
import com.cloudinary.api.exceptions.GeneralError;
import com.cloudinary.api.exceptions.RateLimited;
import dev.failsafe.ExecutionContext;
import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.RetryPolicy;
import dev.failsafe.function.CheckedFunction;
import dev.reclaim.config.ConfigException;
import dev.reclaim.config.StoreConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Cloudinary product environment through the Admin API ({@code cloudinary-http44}). Lists by prefix, 500 per call;
 * deletes by public id, 100 per call, checking every id's answer ({@code not_found} counts as gone). Every answer's
 * {@code X-FeatureRateLimit-*} headers are read: once the remaining hourly quota reaches the reserve kept for the
 * application, or on HTTP 420/429, the store refuses further calls for this run ({@link StoreThrottled}). 5xx and
 * timeouts are retried with bounded exponential backoff and jitter. A delete call answered 400 is split until only
 * the public ids refused alone fail ({@link GuardedStore.Bisection}). No attempt outlives the deadline it is given: its timeout is
 * capped by the time left, and no attempt or backoff starts that would end after the deadline
 * ({@link StoreDeadlinePassed}).
 *
 * <p>With {@code backups: true} (the account backs up its assets; the Admin API does not say so) deletions are
 * undoable: {@link #restore} looks the batch up by public id, then restores from backup only what is not there, in
 * one Admin API call each, both through the quota governor (docs/CLOUDINARY.md section 6).
 */
final class CloudinaryStore implements Store {
    public static final int MAX_BATCH = 100;
    public static final int MAX_LIST_PAGE = 500;
    /** Refused ids isolated per batch before a 400 is taken as not about the ids (every call costs hourly quota). */
    static final int MAX_REFUSED_KEYS = 3;
    private static final double JITTER = 0.25;
    private static final Logger log = LoggerFactory.getLogger(CloudinaryStore.class);
    static final String OUTSIDE_PREFIXES = "outside the allowed prefixes";
    private static final Pattern UNEXPECTED_STATUS = Pattern.compile("unexpected status code - (\\d{3})");

    private final StoreConfig.Cloudinary config;
    private final Api api;
    private final Cloudinary cloudinary;
    // What the account reported, once per process (prepare); null until then.
    private volatile StoreConfig.FolderMode accountMode;
    private final Retries retries;
    private final CloudinaryQuota quota;

    private final String name;
    private final PrefixGuard guard;
    private final AtomicLong calls = new AtomicLong();
    private final Clock clock;

    public CloudinaryStore(StoreConfig.Cloudinary config, Cloudinary cloudinary, Retries retries, Clock clock) {
        this.name = config.name();
        this.guard = new PrefixGuard(config.allowedPrefixes());
        this.clock = clock;
        this.config = config;
        this.quota = new CloudinaryQuota(config.quotaReserve(), clock);
        this.api = cloudinary.api();
        this.cloudinary = cloudinary;
        this.retries = retries;
    }

    /** How 5xx answers and timeouts are retried: attempts in all, and the backoff between them. */
    public record Retries(int maxAttempts, Duration initialDelay, Duration maxDelay) {
        public static final Retries DEFAULT = new Retries(4, Duration.ofMillis(500), Duration.ofSeconds(8));

        /** The wait after failed attempt {@code attempt} (1-based): doubling from the first, at most the max, ±25%. */
        Duration backoff(int attempt) {
            double base = Math.min(initialDelay.toNanos() * Math.pow(2, attempt - 1), maxDelay.toNanos());
            double jitter = 1 + JITTER * (2 * ThreadLocalRandom.current().nextDouble() - 1);
            return Duration.ofNanos((long) (base * jitter));
        }
    }

    /** Asks the account its folder mode ({@code GET /config?settings=true}); an explicit mode must agree with it. */
    @Override
    public void prepare(Instant deadline) {
        if (accountMode != null) {
            return;
        }
        ApiResponse response = call("config", deadline, options -> {
            options.put("settings", true);
            return api.configuration(options);
        });
        Object settings = response.get("settings");
        Object reported = settings instanceof Map<?, ?> m ? m.get("folder_mode") : null;
        StoreConfig.FolderMode mode = "dynamic".equals(reported) ? StoreConfig.FolderMode.DYNAMIC
                : "fixed".equals(reported) ? StoreConfig.FolderMode.FIXED : null;
        if (mode == null) {
            throw new ConfigException("stores." + name() + ".folderMode: the Cloudinary account did not report its"
                    + " folder mode (settings.folder_mode: " + reported + "); set folderMode: fixed or dynamic");
        }
        if (config.folderMode() != StoreConfig.FolderMode.AUTO && config.folderMode() != mode) {
            // A photo moved in the Media Library keeps its public id: read in the wrong mode, it would look like a temp photo.
            throw new ConfigException("stores." + name() + ".folderMode: " + config.folderMode().label() + ", but the"
                    + " Cloudinary account reports " + mode.label() + " folder mode; set folderMode: " + mode.label()
                    + " or auto");
        }
        accountMode = mode;
        log.info("Cloudinary store {}: the account is in {} folder mode; its deletions are {}", name(), mode.label(),
                notUndoable() == null ? "undoable (backups declared)" : "not undoable (no backups declared)");
    }

    @Override
    public boolean keysArePaths() {
        return accountMode != StoreConfig.FolderMode.DYNAMIC;
    }

    @Override
    public String folderMode() {
        return accountMode == null ? null : accountMode.label();
    }

    @Override
    public Listing list(String prefix, Instant createdBefore, String cursor, Instant deadline) {
        if (accountMode == null) {
            prepare(deadline); // not asked yet (or it failed then): nothing is listed in a mode the account has not confirmed
        }
        StoreConfig.FolderMode mode = accountMode;
        try {
            return mode == StoreConfig.FolderMode.DYNAMIC ? search(prefix, createdBefore, cursor, deadline)
                    : listByPublicId(prefix, cursor, deadline);
        } catch (StoreCallFailed e) {
            if (cursor != null && e.getCause() instanceof BadRequest bad) {
                throw new ListingCursorRefused("Cloudinary refused the listing cursor (HTTP 400: " + bad.getMessage()
                        + ")", bad);
            }
            throw e;
        }
    }

    @Override
    public String listingScope() {
        return "cloudinary " + cloudinary.config.cloudName + " " + config.resourceType() + "/" + config.deliveryType()
                + " " + (accountMode == null ? config.folderMode().label() : accountMode.label());
    }

    /**
     * Dynamic folder mode: folders are apart from public ids and {@code by_asset_folder} does not recurse, so a
     * folder tree is listed through the Search API, only what is older than {@code createdBefore}. An asset's path
     * (for prefix, glob and allowed prefixes) is its folder and its display name; its key stays its public id.
     */
    private Listing search(String prefix, Instant createdBefore, String cursor, Instant deadline) {
        // A search cursor goes with its expression: a resumed listing searches with the cutoff its cursor was made
        // under, which the cursor carries before its '|' (the sweep still judges age by its own cutoff).
        String searchCursor = cursor;
        if (cursor != null && cursor.indexOf('|') > 0) {
            String pinned = cursor.substring(0, cursor.indexOf('|'));
            createdBefore = "-".equals(pinned) ? null : Instant.ofEpochSecond(Long.parseLong(pinned));
            searchCursor = cursor.substring(cursor.indexOf('|') + 1);
        }
        List<String> terms = new ArrayList<>();
        // The folders an asset under `prefix` may sit in: those starting with the prefix up to its last '/'.
        int slash = prefix.lastIndexOf('/');
        String folders = slash < 0 ? "" : prefix.substring(0, slash);
        if (!folders.isEmpty()) {
            terms.add("asset_folder:\"" + folders.replace("\\", "\\\\").replace("\"", "\\\"") + "*\"");
        }
        if (createdBefore != null) {
            terms.add("created_at<\"" + createdBefore.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "\"");
        }
        com.cloudinary.Search search = cloudinary.search().expression(String.join(" AND ", terms))
                .maxResults(MAX_LIST_PAGE).sortBy("public_id", "asc");
        if (searchCursor != null) {
            search.nextCursor(searchCursor);
        }
        Map<String, Object> query = search.toQuery();
        ApiResponse response = call("search", deadline, options -> {
            options.put("content_type", "json");
            return api.getStrategy().callApi(Api.HttpMethod.POST, List.of("resources", "search"), query, options);
        });
        List<StoredAsset> assets = new ArrayList<>();
        for (Map<?, ?> m : resources(response)) {
            if (config.resourceType().equals(text(m, "resource_type", config.resourceType()))
                    && config.deliveryType().equals(text(m, "type", config.deliveryType()))) {
                String publicId = String.valueOf(m.get("public_id"));
                String folder = text(m, "asset_folder", "");
                String displayName = text(m, "display_name", publicId);
                String path = folder.isEmpty() ? displayName : folder + "/" + displayName;
                if (path.startsWith(prefix)) {
                    assets.add(new StoredAsset(publicId, createdAt(m), bytes(m), path));
                }
            }
        }
        String next = nextCursor(response);
        String pinned = createdBefore == null ? "-"
                : Long.toString(createdBefore.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).getEpochSecond());
        return new Listing(assets, next == null ? null : pinned + "|" + next);
    }

    private Listing listByPublicId(String prefix, String cursor, Instant deadline) {
        ApiResponse response = call("list", deadline, options -> {
            options.put("prefix", prefix);
            options.put("max_results", MAX_LIST_PAGE);
            if (cursor != null) {
                options.put("next_cursor", cursor);
            }
            return api.resources(options);
        });
        return new Listing(resources(response).stream()
                .map(m -> new StoredAsset(String.valueOf(m.get("public_id")), createdAt(m), bytes(m))).toList(),
                nextCursor(response));
    }

    private static List<Map<?, ?>> resources(ApiResponse response) {
        return response.get("resources") instanceof List<?> list
                ? list.stream().filter(Map.class::isInstance).<Map<?, ?>>map(Map.class::cast).toList() : List.of();
    }

    private static Instant createdAt(Map<?, ?> resource) {
        return OffsetDateTime.parse(String.valueOf(resource.get("created_at"))).toInstant();
    }

    private static long bytes(Map<?, ?> resource) {
        return resource.get("bytes") instanceof Number n ? n.longValue() : 0;
    }

    private static String text(Map<?, ?> resource, String field, String dflt) {
        Object v = resource.get(field);
        return v == null ? dflt : v.toString();
    }

    private static String nextCursor(ApiResponse response) {
        Object next = response.get("next_cursor");
        return next == null || next.toString().isBlank() ? null : next.toString();
    }

    /** One delete call; {@link BatchRefused} when Cloudinary answers 400 to it as a whole. */
    @Override
    public BatchResult delete(List<String> keys, Instant deadline) {
        if (keys.size() > MAX_BATCH) {
            throw new IllegalArgumentException("Cloudinary deletes at most " + MAX_BATCH + " public ids a call" + ", got " + keys.size());
        }
        if (keys.isEmpty()) {
            return new BatchResult(List.of(), Map.of());
        }
        ApiResponse response;
        try {
            response = call("delete", deadline, options -> api.deleteResources(keys, options));
        } catch (StoreCallFailed e) {
            if (e.getCause() instanceof BadRequest bad) {
                throw new BatchRefused("refused by Cloudinary (HTTP 400: " + bad.getMessage() + ") in a call of "
                        + keys.size() + (keys.size() == 1 ? " public id" : " public ids"), bad);
            }
            throw e;
        }
        Object deletedNode = response.get("deleted");
        Map<?, ?> answers = deletedNode instanceof Map<?, ?> m ? m : Map.of();
        List<String> deleted = new ArrayList<>(keys.size());
        Map<String, String> failed = new LinkedHashMap<>();
        for (String k : keys) {
            Object answer = answers.get(k);
            if ("deleted".equals(answer) || "not_found".equals(answer)) {
                deleted.add(k);
            } else {
                failed.put(k, answer == null ? "no answer for this public id" : String.valueOf(answer));
            }
        }
        return new BatchResult(deleted, failed);
    }

    @Override
    public String notUndoable() {
        return config.backups() ? null : "Cloudinary account without backups (stores." + name() + ".backups is not"
                + " true): deleted assets are gone for good";
    }

    /**
     * Restores deleted assets from their backups ({@code versions} is ignored: the latest backup of an asset Reclaim
     * deleted is the version it deleted). A key outside the allowed prefixes is never sent; in dynamic folder mode a
     * public id does not say its folder, so the guard judges the folder the lookup reports. First one lookup by public
     * id: what exists is already present and never sent to restore (what restore does to an existing asset is
     * unverified: it might put the older backup over a newer upload). Then one restore call for the rest. Throws like
     * {@link #list} ({@link StoreThrottled} at the quota reserve, {@link StoreDeadlinePassed}), the lookup's answer
     * then unused.
     */
    @Override
    public Restored restore(List<String> keys, Map<String, String> versions, Instant deadline) {
        if (keys.size() > MAX_BATCH) {
            throw new IllegalArgumentException("Cloudinary restores at most " + MAX_BATCH + " public ids a call, got "
                    + keys.size());
        }
        String why = notUndoable();
        if (why != null || keys.isEmpty()) {
            return Restored.none(keys, why); // no call: the account keeps no backups to restore from
        }
        if (accountMode == null) {
            prepare(deadline); // the guard reads keys as paths only in a folder mode the account confirmed
        }
        boolean paths = keysArePaths();
        Map<String, String> notRestorable = new LinkedHashMap<>();
        List<String> asked = new ArrayList<>();
        for (String k : new java.util.LinkedHashSet<>(keys)) {
            if (paths && !guard().allows(k)) {
                notRestorable.put(k, OUTSIDE_PREFIXES);
            } else {
                asked.add(k);
            }
        }
        List<String> present = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        if (!asked.isEmpty()) {
            Map<String, Map<?, ?>> found = new HashMap<>();
            resources(call("lookup", deadline, options -> api.resourcesByIds(asked, options)))
                    .forEach(r -> found.put(String.valueOf(r.get("public_id")), r));
            for (String k : asked) {
                Map<?, ?> r = found.get(k);
                if (r != null && !placeholder(r)) {
                    present.add(k);
                } else if (!paths && r == null) {
                    notRestorable.put(k, "Cloudinary knows no backup of it, so its folder cannot be checked against"
                            + " the allowed prefixes (dynamic folder mode)");
                } else if (!paths && !guard().allows(pathOf(r))) {
                    notRestorable.put(k, OUTSIDE_PREFIXES);
                } else {
                    absent.add(k);
                }
            }
        }
        List<String> restored = new ArrayList<>();
        if (!absent.isEmpty()) {
            ApiResponse response = call("restore", deadline, options -> api.restore(absent, options));
            for (String k : absent) {
                Object answer = response.get(k);
                String error = restoreError(answer);
                if (answer instanceof Map<?, ?> m && error == null && k.equals(String.valueOf(m.get("public_id")))) {
                    restored.add(k);
                } else if ("already_exists".equals(error)) {
                    present.add(k); // uploaded again between the lookup and the restore
                } else if ("no_backup".equals(error)) {
                    notRestorable.put(k, "Cloudinary has no backup of it (no_backup)");
                } else {
                    notRestorable.put(k, error == null ? "no answer for this public id" : "Cloudinary: " + error);
                }
            }
        }
        return new Restored(restored, present, notRestorable);
    }

    /**
     * One lookup by public id a hundred keys (the Admin API's limit): each asset's {@code created_at}, which an upload
     * under the same public id renews. A deleted asset shown from its backup is a placeholder, left out as gone.
     */
    @Override
    public Map<String, StoredAsset> lookUp(List<String> keys, Instant deadline) {
        if (accountMode == null) {
            prepare(deadline); // a dynamic-mode asset's path is its folder, which only a confirmed mode says to read
        }
        Map<String, StoredAsset> found = new LinkedHashMap<>();
        List<String> distinct = List.copyOf(new java.util.LinkedHashSet<>(keys));
        for (int from = 0; from < distinct.size(); from += MAX_BATCH) {
            List<String> ids = distinct.subList(from, Math.min(distinct.size(), from + MAX_BATCH));
            for (Map<?, ?> r : resources(call("lookup", deadline, options -> api.resourcesByIds(ids, options)))) {
                String publicId = String.valueOf(r.get("public_id"));
                if (ids.contains(publicId) && !placeholder(r)) {
                    found.put(publicId, new StoredAsset(publicId, createdAt(r), bytes(r),
                            keysArePaths() ? publicId : pathOf(r)));
                }
            }
        }
        return found;
    }

    /** A lookup's resource that stands for a deleted asset with a backup (bytes 0), not for an asset that is there. */
    static boolean placeholder(Map<?, ?> resource) {
        return Boolean.TRUE.equals(resource.get("placeholder")) || "true".equals(String.valueOf(resource.get("placeholder")))
                || bytes(resource) == 0;
    }

    /** Where a dynamic-mode asset lives: its folder and display name, as a listing's path. */
    static String pathOf(Map<?, ?> resource) {
        String folder = text(resource, "asset_folder", "");
        String name = text(resource, "display_name", String.valueOf(resource.get("public_id")));
        return folder.isEmpty() ? name : folder + "/" + name;
    }

    /** A restore answer's error for one public id: a string, or an object with a message; null when none. */
    static String restoreError(Object answer) {
        if (!(answer instanceof Map<?, ?> m)) {
            return answer == null ? null : String.valueOf(answer);
        }
        Object error = m.get("error");
        if (error instanceof Map<?, ?> e) {
            return String.valueOf(e.get("message"));
        }
        return error == null ? null : String.valueOf(error);
    }

    @Override
    public dev.reclaim.report.RunEvent.QuotaSeen quotaSeen() {
        return quota.asEvent(name());
    }

    /** The options of one attempt: its socket and connect timeouts are the configured timeout or the time left. */
    private Map<String, Object> options(Duration left) {
        // Rounded up: a timeout cut to the time left must not fire before the deadline (0 would mean no timeout).
        Duration capped = left == null || config.timeout().compareTo(left) <= 0 ? config.timeout() : left;
        int millis = (int) Math.max(1, (capped.toNanos() + 999_999) / 1_000_000);
        Map<String, Object> o = new HashMap<>();
        o.put("resource_type", config.resourceType());
        o.put("type", config.deliveryType());
        o.put("timeout", millis);
        o.put("connect_timeout", millis);
        return o;
    }

    /**
     * One API call with its retries (Failsafe). An attempt starts only with time left before {@code deadline}, and a
     * transient failure is retried only when the backoff ends before it: otherwise {@link StoreDeadlinePassed}.
     */
    private ApiResponse call(String what, Instant deadline, CheckedFunction<Map<String, Object>, ApiResponse> call) {
        quota.check();
        RetryPolicy<ApiResponse> retry = RetryPolicy.<ApiResponse>builder()
                .handleIf(CloudinaryStore::transientFailure)
                .withMaxAttempts(retries.maxAttempts())
                // withDelayFn, not withBackoff/withJitter: no Failsafe abort check sees the jittered wait.
                .withDelayFn(context -> backoffBefore(deadline, what, context))
                .onRetryScheduled(e -> log.warn("Cloudinary call failed ({}), retry {} of {} in {} ms",
                        e.getLastException().toString(), e.getAttemptCount(), retries.maxAttempts() - 1,
                        e.getDelay().toMillis()))
                .build();
        try {
            return Failsafe.with(retry).get(() -> attempt(what, deadline, call));
        } catch (FailsafeException e) {
            throw translate(e.getCause() == null ? e : e.getCause());
        } catch (RuntimeException e) {
            throw translate(e);
        }
    }

    /** One attempt, its timeouts capped by the time left now; cut short by the deadline: {@link StoreDeadlinePassed}. */
    private ApiResponse attempt(String what, Instant deadline, CheckedFunction<Map<String, Object>, ApiResponse> call)
            throws Throwable {
        Duration left = GuardedStore.timeLeft(clock, deadline, "Cloudinary " + what + " call");
        calls.incrementAndGet();
        try {
            ApiResponse response = call.apply(options(left));
            record(response);
            return response;
        } catch (Exception e) {
            if (deadline != null && timedOut(e) && left.compareTo(config.timeout()) < 0
                    && !clock.instant().isBefore(deadline)) {
                throw new StoreDeadlinePassed("Cloudinary " + what + " call cut short: the run's deadline (" + deadline
                        + ") passed while it waited for an answer", e);
            }
            throw e;
        }
    }

    /**
     * The wait before retrying the failed attempt of {@code context}; {@link StoreDeadlinePassed} when it would end
     * after {@code deadline} (thrown from a delay function, it ends Failsafe's execution at once, unhandled).
     */
    private Duration backoffBefore(Instant deadline, String what, ExecutionContext<ApiResponse> context) {
        Duration backoff = retries.backoff(context.getAttemptCount());
        // Failsafe asks for a delay after the last attempt too: that failure is the call's own, not the deadline's.
        boolean retryFollows = context.getAttemptCount() < retries.maxAttempts();
        if (retryFollows && deadline != null && !clock.instant().plus(backoff).isBefore(deadline)) {
            Throwable failure = context.getLastException();
            throw new StoreDeadlinePassed("Cloudinary " + what + " call cut short: it failed (" + failure
                    + ") and its retry would start after the run's deadline (" + deadline + ")", failure);
        }
        return backoff;
    }

    private RuntimeException translate(Throwable t) {
        Integer status = status(t);
        if (t instanceof RateLimited || (status != null && status == 429)) {
            return quota.spent(t.getMessage());
        }
        if (t instanceof RuntimeException r) {
            return r;
        }
        return new StoreCallFailed("Cloudinary call failed: " + t, t);
    }

    private void record(ApiResponse response) {
        try {
            RateLimit rl = response.apiRateLimit();
            if (rl != null) {
                quota.seen(rl.getLimit(), rl.getRemaining(), rl.getReset() == null ? null : rl.getReset().toInstant());
            }
        } catch (RuntimeException | java.text.ParseException e) {
            log.debug("no rate-limit headers on a Cloudinary answer: {}", e.toString());
        }
    }

    /** 5xx answers and timeouts are worth another try; 4xx and rate limits are not. */
    private static boolean transientFailure(Throwable t) {
        if (t instanceof RateLimited || t instanceof StoreDeadlinePassed) {
            return false; // a deadline that cut an attempt short leaves no time for another
        }
        if (timedOut(t)) {
            return true; // timeouts, resets
        }
        Integer status = status(t);
        if (status != null) {
            return status >= 500;
        }
        // The SDK maps a 500 with a JSON body to GeneralError carrying only the message.
        return t instanceof GeneralError;
    }

    private static boolean timedOut(Throwable t) {
        return t instanceof IOException || t.getCause() instanceof IOException;
    }

    private static Integer status(Throwable t) {
        String message = t.getMessage();
        if (message == null) {
            return null;
        }
        Matcher m = UNEXPECTED_STATUS.matcher(message);
        return m.find() ? Integer.parseInt(m.group(1)) : null;
    }

    /** A call that failed for good (after retries). */
    public static final class StoreCallFailed extends RuntimeException {
        StoreCallFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int maxBatch() {
        return MAX_BATCH;
    }

    @Override
    public int maxRefusedKeys() {
        return MAX_REFUSED_KEYS;
    }

    @Override
    public PrefixGuard guard() {
        return guard;
    }

    @Override
    public long apiCalls() {
        return calls.get();
    }
}
