package dev.reclaim.store;

import dev.reclaim.config.AwsClients;
import dev.reclaim.config.ConfigException;
import dev.reclaim.config.Redaction;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.Settings;
import dev.reclaim.config.StoreConfig;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.time.Clock;
import com.cloudinary.Cloudinary;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The configured stores by name, with their clients built once (per Lambda container, per CLI run). Every store it
 * hands out is behind {@link GuardedStore}: no delete reaches a store's API around the prefix guard.
 */
public final class Stores implements AutoCloseable {
    private final Map<String, GuardedStore> byName;
    private final AutoCloseable[] resources;

    public Stores(Map<String, ? extends Store> byName, AutoCloseable... resources) {
        Map<String, GuardedStore> guarded = new LinkedHashMap<>(); // file order
        byName.forEach((name, s) -> guarded.put(name, s instanceof GuardedStore g ? g : new GuardedStore(s, null, null)));
        this.byName = java.util.Collections.unmodifiableMap(guarded);
        this.resources = resources;
    }

    /** The stores on {@code aws}'s clients, which stay the caller's to close. */
    public static Stores build(ReclaimConfig config, Settings settings, AwsClients aws) {
        Map<String, Store> stores = new LinkedHashMap<>();
        for (StoreConfig sc : config.stores().values()) {
            Store api = null;
            if (sc instanceof StoreConfig.S3 s3c) {
                api = new S3Store(s3c, s3Client(aws, config, s3c, settings.aws()));
            } else if (sc instanceof StoreConfig.Cloudinary cc) {
                api = new CloudinaryStore(cc, cloudinary(config, cc, settings.cloudinaryUrl()),
                        new CloudinaryStore.Retries(cc.maxAttempts(), cc.retryDelay(), cc.retryDelay().multipliedBy(16)),
                        Clock.systemUTC());
            }
            // Until referenceChecked gives it the database, the store refuses to delete.
            stores.put(sc.name(), new GuardedStore(api, sc.referenced(), null, true));
        }
        return new Stores(stores);
    }

    /** {@code CLOUDINARY_URL}: cloudinary://key:secret@cloud, with ?upload_prefix=... for another API host. */
    private static Cloudinary cloudinary(ReclaimConfig config, StoreConfig.Cloudinary cc, String url) {
        String where = config.source() + ": stores." + cc.name() + ": ";
        if (url == null || url.isBlank()) {
            throw new ConfigException(where + "CLOUDINARY_URL is not set (cloudinary://api_key:api_secret@cloud_name)");
        }
        if (!url.startsWith("cloudinary://")) {
            throw new ConfigException(where + "CLOUDINARY_URL must look like cloudinary://api_key:api_secret@cloud_name");
        }
        Cloudinary c;
        try {
            c = new Cloudinary(url);
        } catch (RuntimeException e) {
            throw new ConfigException(where + "CLOUDINARY_URL cannot be read: " + Redaction.redact(e.getMessage()));
        }
        if (c.config.apiKey == null || c.config.apiSecret == null || c.config.cloudName == null) {
            throw new ConfigException(where + "CLOUDINARY_URL must carry api_key, api_secret and cloud name");
        }
        return c;
    }

    /**
     * The same stores, each behind {@link GuardedStore} with the database: the prefix guard, then restored keys
     * protected and the store's {@code referenced} query (when declared) checked against {@code dataSource} right
     * before every delete call, and every confirmed delete journaled. The clients stay owned by this instance.
     */
    public Stores referenceChecked(ReclaimConfig config, javax.sql.DataSource dataSource) {
        Map<String, Store> checked = new LinkedHashMap<>();
        byName.forEach((name, s) -> {
            StoreConfig sc = config.stores().get(name);
            checked.put(name, new GuardedStore(s, sc == null ? null : sc.referenced(), dataSource));
        });
        return new Stores(checked);
    }

    /** {@link GuardedStore#cutCallsAt} for every store: a stop's grace end, or null when the run is over. */
    public void cutCallsAt(java.time.Instant at) {
        byName.values().forEach(s -> s.cutCallsAt(at));
    }

    public GuardedStore get(String name) {
        return byName.get(name);
    }

    public Map<String, GuardedStore> all() {
        return byName;
    }

    private static S3Client s3Client(AwsClients aws, ReclaimConfig config, StoreConfig.S3 sc, Settings.Aws settings) {
        String where = config.source() + ": stores." + sc.name();
        String region = Settings.firstSet(sc.region(), settings.region());
        if (region == null) {
            throw new ConfigException(where + ": no AWS region: set AWS_REGION (Lambda sets it) or the store's region");
        }
        URI endpoint = sc.endpoint() != null ? URI.create(sc.endpoint()) // checked when the file was read
                : Settings.url("AWS_ENDPOINT_URL_S3", settings.s3Endpoint());
        return aws.s3(region, endpoint, sc.pathStyle(), sc.credentials());
    }

    @Override
    public void close() {
        for (AutoCloseable c : resources) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing on shutdown; nothing useful to do with the failure
            }
        }
    }
}
