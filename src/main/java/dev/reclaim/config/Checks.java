package dev.reclaim.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What Jackson cannot check, without the database: every value parsed and checked, the references between stores,
 * sweeps and steps, and the bound file converted to {@link StoreConfig}s and {@link SweepConfig}s.
 */
final class Checks {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern SWEEP_NAME = Pattern.compile("[a-z0-9][a-z0-9-]*");
    private static final Pattern VARIABLE_ONLY = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    private final String file;
    private final Problems problems;
    /** Read only for a store's keys, which the file must name as variables (the rest is substituted before). */
    private final Map<String, String> env;

    Checks(String file, Problems problems, Map<String, String> env) {
        this.file = file;
        this.problems = problems;
        this.env = env;
    }

    ReclaimConfig convert(ConfigFile bound) {
        Map<String, ConfigFile.Store> declared = Objects.requireNonNullElse(bound.stores(), new LinkedHashMap<>());
        Map<String, StoreConfig> stores = new LinkedHashMap<>();
        present("stores", bound.stores()).forEach((name, s) -> stores.put(name, store("stores." + name, name, s)));
        Map<String, SweepConfig> sweeps = new LinkedHashMap<>();
        present("sweeps", bound.sweeps()).forEach((name, s) -> {
            if (!SWEEP_NAME.matcher(name).matches()) {
                problems.error("sweeps." + name, "sweep names are lower-case words joined by '-' (got '" + name + "')");
            }
            sweeps.put(name, s instanceof ConfigFile.Records r ? records("sweeps." + name, name, r, declared)
                    : assets("sweeps." + name, name, (ConfigFile.Assets) s, declared, stores));
        });
        if (bound.sweeps() != null && bound.sweeps().isEmpty()) {
            problems.error("sweeps", "no sweeps are configured");
        }
        return new ReclaimConfig(file, java.util.Collections.unmodifiableMap(stores),
                java.util.Collections.unmodifiableMap(sweeps));
    }

    /** The entries that bound; an error for a missing mapping or an entry that is none. */
    private <T> Map<String, T> present(String path, Map<String, T> entries) {
        if (entries == null) {
            problems.error(path, "expected a mapping");
        }
        Map<String, T> out = new LinkedHashMap<>();
        Objects.requireNonNullElse(entries, out).forEach((name, value) -> {
            if (value == null) {
                problems.error(path + "." + name, "expected a mapping");
            } else {
                out.put(name, value);
            }
        });
        return out;
    }

    private StoreConfig store(String path, String name, ConfigFile.Store store) {
        List<String> prefixes = prefixes(path + ".allowedPrefixes", store.allowedPrefixes());
        // Optional: of :keys, those any row of the application still holds; run before every delete in this store.
        SqlTemplate referenced = blank(store.referenced()) ? null : sql(path + ".referenced", store.referenced(),
                List.of("keys"), "keys", "the reference query must take the keys as :keys and return those still in use (e.g."
                        + " SELECT s3_key FROM files WHERE s3_key = ANY(:keys) UNION ALL SELECT ...)");
        if (store instanceof ConfigFile.S3 s3) {
            return new StoreConfig.S3(name, text(path + ".bucket", s3.bucket(), true),
                    text(path + ".region", s3.region(), false),
                    value(path + ".endpoint", s3.endpoint(), false, null, Checks::endpoint),
                    value(path + ".pathStyle", s3.pathStyle(), false, false, t -> Booleans.parse(t, false)),
                    prefixes, referenced, credentials(path, s3),
                    value(path + ".batchDelete", s3.batchDelete(), false, true, t -> Booleans.parse(t, true)));
        }
        ConfigFile.Cloudinary c = (ConfigFile.Cloudinary) store;
        return new StoreConfig.Cloudinary(name, value(path + ".resourceType", c.resourceType(), false, "image", t -> t),
                value(path + ".deliveryType", c.deliveryType(), false, "upload", t -> t),
                value(path + ".quotaReserve", c.quotaReserve(), false, 0.2, Checks::fraction),
                value(path + ".timeout", c.timeout(), false, Duration.ofSeconds(30), Checks::positive),
                value(path + ".maxAttempts", c.maxAttempts(), false, 4L, between(1, 10)).intValue(),
                value(path + ".retryDelay", c.retryDelay(), false, Duration.ofMillis(500), Checks::positive),
                prefixes, referenced, value(path + ".folderMode", c.folderMode(), false, StoreConfig.FolderMode.AUTO,
                        t -> parse(t, () -> StoreConfig.FolderMode.valueOf(t.trim().toUpperCase(java.util.Locale.ROOT)),
                                "a folder mode (fixed, dynamic, auto)")),
                // Declared, not asked: the Admin API does not report whether automatic backup is on (docs/CLOUDINARY.md 6).
                value(path + ".backups", c.backups(), false, false, t -> Booleans.parse(t, false)));
    }

    /** Both keys, each from the variable the file names, or neither (null: the process's AWS credentials). */
    private StoreConfig.Credentials credentials(String path, ConfigFile.S3 s3) {
        String id = key(path + ".accessKeyId", s3.accessKeyId(), "SUPABASE_S3_KEY_ID");
        String secret = key(path + ".secretAccessKey", s3.secretAccessKey(), "SUPABASE_S3_SECRET");
        if (blank(s3.accessKeyId()) != blank(s3.secretAccessKey())) {
            String missing = blank(s3.accessKeyId()) ? "accessKeyId" : "secretAccessKey";
            problems.error(path + "." + missing, "is required with " + (blank(s3.accessKeyId()) ? "secretAccessKey"
                    : "accessKeyId") + " (a store signs with a key pair of its own, or with neither field with the"
                    + " process's AWS credentials)");
        }
        return id == null || secret == null ? null : new StoreConfig.Credentials(variable(s3.accessKeyId()), id,
                variable(s3.secretAccessKey()), secret);
    }

    /** The value of the variable {@code text} names; a key written into the file is refused, and never repeated. */
    private String key(String path, String text, String example) {
        return value(path, text, false, null, t -> {
            String name = variable(t);
            if (name == null) {
                throw new IllegalArgumentException("must name an environment variable, as ${" + example + "}: a key"
                        + " is never written into the configuration file");
            }
            String v = env.get(name);
            if (blank(v)) {
                throw new IllegalArgumentException("environment variable " + name + " is not set (or " + name
                        + "_SECRET_ARN, naming the Secrets Manager secret that holds it)");
            }
            return v.strip();
        });
    }

    private static String variable(String text) {
        Matcher m = VARIABLE_ONLY.matcher(text.strip());
        return m.matches() ? m.group(1) : null;
    }

    /** An http or https URL with a host: the SDK needs one, and a typo must not reach AWS's own endpoint instead. */
    private static String endpoint(String text) {
        String t = text.strip();
        URI uri;
        try {
            uri = new URI(t);
        } catch (URISyntaxException e) {
            uri = null;
        }
        if (uri == null || uri.getHost() == null || !List.of("http", "https").contains(
                String.valueOf(uri.getScheme()).toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("'" + text + "' is not an http or https URL such as"
                    + " https://<project_ref>.storage.supabase.co/storage/v1/s3");
        }
        return t;
    }

    private List<String> prefixes(String path, List<String> list) {
        if (list == null || list.isEmpty()) {
            problems.error(path, "every store must list the key prefixes it may delete under (e.g. [\"users/\"])");
            return null;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String prefix = Objects.requireNonNullElse(list.get(i), "").trim();
            if (prefix.isEmpty()) {
                problems.error(path + "[" + i + "]", "an empty prefix would allow every key");
            }
            out.add(prefix);
        }
        return List.copyOf(out);
    }

    private SweepConfig records(String path, String name, ConfigFile.Records sweep, Map<String, ?> stores) {
        Duration olderThan = value(path + ".olderThan", sweep.olderThan(), true, null, Checks::positive);
        long pageSize = value(path + ".pageSize", sweep.pageSize(), false, 100L, between(1, 10_000));
        long cap = value(path + ".maxDeletesPerRun", sweep.maxDeletesPerRun(), false, Long.MAX_VALUE,
                between(1, Long.MAX_VALUE));
        SqlTemplate eligible = sql(path + ".eligible", sweep.eligible(), List.of("cutoff"), null, null);
        SqlTemplate claim = sql(path + ".claim", sweep.claim(), List.of("id", "cutoff"), "id",
                "the claim query must lock the item by :id (e.g. ... WHERE id = :id ... FOR UPDATE)");
        List<ConfigFile.Step> declared = Objects.requireNonNullElse(sweep.steps(), List.of());
        if (declared.isEmpty()) {
            problems.error(path + ".steps", "a records sweep needs at least one step");
        }
        List<SweepConfig.Step> steps = new ArrayList<>();
        Set<String> known = new LinkedHashSet<>(List.of("id", "cutoff"));
        Set<String> stepNames = new LinkedHashSet<>();
        for (int i = 0; i < declared.size(); i++) {
            String sp = path + ".steps[" + i + "]";
            ConfigFile.Step step = declared.get(i);
            if (step == null) {
                problems.error(sp, "expected a mapping with name and sql");
                continue;
            }
            String stepName = text(sp + ".name", step.name(), true);
            if (stepName != null && !stepNames.add(stepName)) {
                problems.error(sp + ".name", "duplicate step name '" + stepName + "'");
            }
            SqlTemplate sql = sql(sp + ".sql", step.sql(), known, null, null);
            // A step that names neither the item nor what earlier steps found for it acts on every row of its table.
            if (sql != null && sql.parameters().stream().allMatch("cutoff"::equals)) {
                problems.error(sp + ".sql", sp + (stepName == null ? "" : " (" + stepName + ")") + ".sql", "uses"
                        + " neither :id nor a value an earlier step keeps, so it is not limited to the item being purged"
                        + " and would act on every row (e.g. ... WHERE moc_id = :id, or ... WHERE id = ANY(:keptName))");
            }
            String collect = text(sp + ".collect", step.collect(), false);
            if (collect != null && !stores.containsKey(collect)) {
                problems.error(sp + ".collect", unknownStore(collect, stores));
            }
            String keep = value(sp + ".keep", step.keep(), false, null, Checks::identifier);
            if (keep != null && !known.add(keep)) {
                problems.error(sp + ".keep", "'" + keep + "' is already a parameter name");
            }
            steps.add(new SweepConfig.Step(stepName, sql, collect,
                    value(sp + ".count", step.count(), false, null, Checks::identifier), keep));
        }
        unusedKeeps(path, steps);
        SweepConfig.FanOut.Mode fanOut = value(path + ".fanOut", sweep.fanOut(), false, SweepConfig.FanOut.Mode.AUTO,
                Checks::fanOutMode);
        long shardSize = value(path + ".shardSize", sweep.shardSize(), false, SweepConfig.FanOut.DEFAULT.shardSize(),
                between(pageSize, 10_000_000));
        return new SweepConfig.Records(name, olderThan, (int) pageSize, cap, eligible, claim, List.copyOf(steps),
                brake(path + ".brake", sweep.brake()), new SweepConfig.FanOut(fanOut, shardSize));
    }

    /** A value kept for no later step is a mistake: most likely the step meant to use it names something else. */
    private void unusedKeeps(String path, List<SweepConfig.Step> steps) {
        for (int i = 0; i < steps.size(); i++) {
            String keep = steps.get(i).keep();
            if (keep == null) {
                continue;
            }
            boolean used = steps.subList(i + 1, steps.size()).stream()
                    .anyMatch(later -> later.sql() != null && later.sql().parameters().contains(keep));
            if (!used) {
                String name = steps.get(i).name();
                problems.error(path + ".steps[" + i + "].keep", path + ".steps[" + i + "]"
                        + (name == null ? "" : " (" + name + ")") + ".keep", "'" + keep + "' is used by no later step"
                        + " (a later step's sql would name it :" + keep + "); remove the keep, or use it");
            }
        }
    }

    private SweepConfig assets(String path, String name, ConfigFile.Assets sweep, Map<String, ConfigFile.Store> declared,
                               Map<String, StoreConfig> stores) {
        String store = text(path + ".store", sweep.store(), true);
        if (store != null && !declared.containsKey(store)) {
            problems.error(path + ".store", unknownStore(store, declared));
        }
        String prefix = text(path + ".prefix", sweep.prefix(), true);
        String match = text(path + ".match", sweep.match(), true);
        String literal = value(path + ".match", match, false, null,
                m -> parse(m, () -> KeyGlob.compile(m).literalStart(), "a glob such as users/*/temp/** (%s)"));
        // What a sweep may delete must be pinned to a folder: its literal start, inside the prefix and the guard.
        List<String> allowed = store == null || stores.get(store) == null ? null : stores.get(store).allowedPrefixes();
        String under = Objects.requireNonNullElse(prefix, "");
        if (literal != null && literal.isEmpty()) {
            problems.error(path + ".match", "'" + match + "' has no literal start (text before its first wildcard), so"
                    + " it would match every key listed under '" + under + "'; begin it with the folder it may delete"
                    + " from, e.g. " + under + "tmp/**");
        } else if (literal != null && !literal.startsWith(under)) {
            problems.error(path + ".match", "'" + match + "' does not start with the sweep's prefix '" + prefix + "'");
        } else if (literal != null && allowed != null && allowed.stream().noneMatch(literal::startsWith)) {
            problems.error(path + ".match", "'" + match + "' lies outside the allowed prefixes of store " + store + " ("
                    + String.join(", ", allowed) + "): its literal start '" + literal + "' must begin with one");
        }
        Duration olderThan = value(path + ".olderThan", sweep.olderThan(), true, null, Checks::positive);
        long cap = value(path + ".maxDeletesPerRun", sweep.maxDeletesPerRun(), false, Long.MAX_VALUE,
                between(1, Long.MAX_VALUE));
        // Below 1 a run would list nothing, and no key would ever be looked at.
        long pages = value(path + ".maxListPagesPerRun", sweep.maxListPagesPerRun(), false, Long.MAX_VALUE, text -> {
            long v = between(Long.MIN_VALUE, Long.MAX_VALUE).apply(text);
            if (v < 1) {
                throw new IllegalArgumentException("must be at least 1 (got " + v + "): a run lists at least one page");
            }
            return v;
        });
        // Optional when the store checks references itself (both run when both are given).
        boolean storeChecks = store != null && declared.get(store) != null && !blank(declared.get(store).referenced());
        SqlTemplate referenced = storeChecks && blank(sweep.referenced()) ? null : sql(path + ".referenced",
                sweep.referenced(), List.of("keys", "cutoff"), "keys", "the reference query must take the page's keys as :keys"
                        + " (e.g. SELECT public_id FROM photos WHERE public_id = ANY(:keys))");
        return new SweepConfig.Assets(name, store, prefix, match, olderThan, cap, pages, referenced,
                brake(path + ".brake", sweep.brake()), assetsFanOut(path, sweep, declared.get(store)));
    }

    /**
     * An S3 sweep's fan-out ({@code auto} unless set); a Cloudinary sweep's is refused: the account's hourly quota is
     * the limit, so more workers would only share it.
     */
    private SweepConfig.FanOut assetsFanOut(String path, ConfigFile.Assets sweep, ConfigFile.Store store) {
        if (store instanceof ConfigFile.Cloudinary) {
            for (String[] field : new String[][] {{"fanOut", sweep.fanOut()}, {"shardSize", sweep.shardSize()}}) {
                if (!blank(field[1]) && !(field[0].equals("fanOut") && "never".equals(field[1].trim()))) {
                    problems.error(path + "." + field[0], "a Cloudinary sweep is not fanned out: the account's hourly"
                            + " Admin API quota is the limit, and more workers would only share it (remove "
                            + field[0] + ", or set fanOut: never)");
                }
            }
            return SweepConfig.FanOut.NEVER_FOR_ASSETS;
        }
        SweepConfig.FanOut d = SweepConfig.FanOut.ASSETS_DEFAULT;
        SweepConfig.FanOut.Mode mode = value(path + ".fanOut", sweep.fanOut(), false, d.mode(), Checks::fanOutMode);
        // Entries of the prefix's first level (a folder or a key) a shard takes.
        long shardSize = value(path + ".shardSize", sweep.shardSize(), false, d.shardSize(), between(1, 1_000_000));
        return new SweepConfig.FanOut(mode, shardSize);
    }

    /** {@code off}, {@code on}, or {@code {minItems, factor, firstRunLimit}} (each optional); absent: on. */
    private SweepConfig.Brake brake(String path, Object brake) {
        SweepConfig.Brake d = SweepConfig.Brake.DEFAULT;
        if (brake == null || "on".equals(brake) || Boolean.TRUE.equals(brake)) {
            return d;
        }
        if ("off".equals(brake) || Boolean.FALSE.equals(brake)) {
            return SweepConfig.Brake.OFF;
        }
        if (!(brake instanceof Map<?, ?> settings)) {
            problems.error(path, "must be off, on, or a mapping of minItems, factor and firstRunLimit (got '"
                    + brake + "')");
            return d;
        }
        for (Object key : settings.keySet()) {
            if (!List.of("minItems", "factor", "firstRunLimit").contains(String.valueOf(key))) {
                problems.error(path + "." + key, "unknown brake setting (minItems, factor, firstRunLimit)");
            }
        }
        long minItems = value(path + ".minItems", Objects.toString(settings.get("minItems"), null), false, d.minItems(),
                between(1, Long.MAX_VALUE));
        double factor = value(path + ".factor", Objects.toString(settings.get("factor"), null), false, d.factor(), text -> {
            double f = parse(text, () -> Double.parseDouble(text.trim()), "a number such as 3");
            if (!(f > 0) || Double.isInfinite(f)) {
                throw new IllegalArgumentException("must be a positive number (got '" + text + "')");
            }
            return f;
        });
        long firstRunLimit = value(path + ".firstRunLimit", Objects.toString(settings.get("firstRunLimit"), null), false,
                d.firstRunLimit(), between(1, Long.MAX_VALUE));
        return new SweepConfig.Brake(true, minItems, factor, firstRunLimit);
    }

    private static String unknownStore(String store, Map<String, ?> stores) {
        return "unknown store '" + store + "' (configured: " + String.join(", ", stores.keySet()) + ")";
    }

    // ---- values: an error says what is wrong and the value's default stands in, so checking goes on ----------

    /** A query using only {@code allowed} parameters, and {@code needed} (unless null), else {@code howTo} is the error. */
    private SqlTemplate sql(String path, String text, Collection<String> allowed, String needed, String howTo) {
        return value(path, text, true, null, source -> {
            SqlTemplate sql = SqlTemplate.parse(source);
            sql.parameters().stream().filter(p -> !allowed.contains(p)).findFirst().ifPresent(p -> {
                throw new IllegalArgumentException("unknown parameter :" + p + " (known here: "
                        + allowed.stream().map(a -> ":" + a).collect(Collectors.joining(", ")) + ")");
            });
            if (needed != null && !sql.parameters().contains(needed)) {
                throw new IllegalArgumentException(howTo);
            }
            return sql;
        });
    }

    /**
     * {@code dflt} when blank (an error too when required), else {@code convert} applied; when that throws, its message
     * is the error and {@code dflt} stands in.
     */
    private <T> T value(String path, String text, boolean required, T dflt, Function<String, T> convert) {
        try {
            if (blank(text) && required) {
                throw new IllegalArgumentException(text == null ? "is required" : "is empty");
            }
            return blank(text) ? dflt : convert.apply(text);
        } catch (IllegalArgumentException e) {
            problems.error(path, e.getMessage());
            return dflt;
        }
    }

    private String text(String path, String text, boolean required) {
        return value(path, text, required, null, t -> t);
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    private static Duration positive(String text) {
        return Durations.parse(text, Durations.Accepts.POSITIVE);
    }

    private static SweepConfig.FanOut.Mode fanOutMode(String text) {
        try {
            return SweepConfig.FanOut.Mode.valueOf(text.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("expected never, auto or always, got '" + text + "'");
        }
    }

    private static Function<String, Long> between(long min, long max) {
        return text -> {
            long v = parse(text, () -> Long.parseLong(text.trim().replace("_", "")), "a whole number");
            if (v < min || v > max) {
                throw new IllegalArgumentException("must be between " + min + " and " + max + " (got " + v + ")");
            }
            return v;
        };
    }

    private static double fraction(String text) {
        String t = text.trim();
        double v = parse(text, () -> t.endsWith("%") ? Double.parseDouble(t.substring(0, t.length() - 1)) / 100
                : Double.parseDouble(t), "a fraction such as 0.2 or 20%");
        if (v < 0 || v >= 1) {
            throw new IllegalArgumentException("must be a fraction in [0, 1) such as 0.2 or 20% (got '" + text + "')");
        }
        return v;
    }

    /** {@code parser}'s result; when it throws, an error saying what {@code text} is not. */
    private static <T> T parse(String text, java.util.function.Supplier<T> parser, String what) {
        try {
            return parser.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not " + what.replace("%s", e.getMessage()), e);
        }
    }

    private static String identifier(String text) {
        if (!IDENTIFIER.matcher(text).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a plain name (letters, digits, _)");
        }
        return text;
    }
}
