package dev.reclaim.config;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

import java.util.LinkedHashMap;
import java.util.List;

/**
 * {@code reclaim.yaml} as written, bound by Jackson: unknown fields refused, a store's {@code type} and a sweep's
 * {@code kind} as type ids, mappings in file order. Values stay text (after {@code ${NAME}} substitution):
 * {@link Checks} converts and checks them, so every error names its field.
 */
record ConfigFile(LinkedHashMap<String, Store> stores, LinkedHashMap<String, Sweep> sweeps) {

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
    @JsonSubTypes({@JsonSubTypes.Type(value = S3.class, name = "s3"),
            @JsonSubTypes.Type(value = Cloudinary.class, name = "cloudinary")})
    sealed interface Store permits S3, Cloudinary {
        List<String> allowedPrefixes();

        String referenced();
    }

    /** {@code accessKeyId} and {@code secretAccessKey} stay as written ({@code ${NAME}}): {@link Checks} reads them. */
    record S3(String bucket, String region, String endpoint, String pathStyle, List<String> allowedPrefixes,
              String referenced, String accessKeyId, String secretAccessKey, String batchDelete) implements Store {
    }

    record Cloudinary(String resourceType, String deliveryType, String quotaReserve, String timeout, String maxAttempts,
                      String retryDelay, List<String> allowedPrefixes, String referenced, String folderMode,
                      String backups)
            implements Store {
    }

    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "kind")
    @JsonSubTypes({@JsonSubTypes.Type(value = Records.class, name = "records"),
            @JsonSubTypes.Type(value = Assets.class, name = "assets")})
    /** {@code brake}: {@code off}, {@code on}, or a mapping of its settings (checked by {@link Checks}). */
    sealed interface Sweep permits Records, Assets {
        Object brake();
    }

    record Records(String olderThan, String pageSize, String maxDeletesPerRun, String eligible, String claim,
                   List<Step> steps, Object brake, String fanOut, String shardSize) implements Sweep {
    }

    record Assets(String store, String prefix, String match, String olderThan, String maxDeletesPerRun,
                  String maxListPagesPerRun, String referenced, Object brake, String fanOut, String shardSize)
            implements Sweep {
    }

    record Step(String name, String sql, String collect, String count, String keep) {
    }
}
