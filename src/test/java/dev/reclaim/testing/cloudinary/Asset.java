package dev.reclaim.testing.cloudinary;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * One stored asset of the emulated Cloudinary product environment.
 *
 * <p>{@code createdAt} is truncated to whole seconds (Cloudinary reports {@code created_at} with second
 * precision). {@code format} may be {@code null} (raw files); {@code assetFolder} defaults to the folder part of
 * the public id ({@code "a/b/c"} lives in {@code "a/b"}; {@code "c"} lives in {@code ""}) and {@code displayName}
 * to its last segment, as in fixed folder mode. {@link #dynamic} makes a dynamic-folder-mode asset, whose folder
 * and display name are independent of its public id.
 */
public record Asset(
        String publicId,
        String resourceType,
        String type,
        Instant createdAt,
        long bytes,
        String format,
        String assetFolder,
        String displayName) {

    public Asset {
        Objects.requireNonNull(publicId, "publicId");
        if (publicId.isEmpty()) {
            throw new IllegalArgumentException("publicId must not be empty");
        }
        resourceType = resourceType == null ? "image" : resourceType;
        if (!CloudinaryEmulator.RESOURCE_TYPES.contains(resourceType)) {
            throw new IllegalArgumentException("resourceType must be one of " + CloudinaryEmulator.RESOURCE_TYPES);
        }
        type = type == null ? "upload" : type;
        createdAt = Objects.requireNonNull(createdAt, "createdAt").truncatedTo(ChronoUnit.SECONDS);
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must be >= 0");
        }
        if (assetFolder == null) {
            int slash = publicId.lastIndexOf('/');
            assetFolder = slash < 0 ? "" : publicId.substring(0, slash);
        }
        if (displayName == null) {
            displayName = publicId.substring(publicId.lastIndexOf('/') + 1);
        }
    }

    /** A fixed-mode asset: display name from the public id. */
    public Asset(String publicId, String resourceType, String type, Instant createdAt, long bytes, String format,
            String assetFolder) {
        this(publicId, resourceType, type, createdAt, bytes, format, assetFolder, null);
    }

    /**
     * An {@code image/upload} jpg of a dynamic-folder-mode account: it lives in {@code assetFolder} under
     * {@code displayName} whatever its public id (which may have no path at all, e.g. {@code "k3x9qz7abc"}).
     */
    public static Asset dynamic(String publicId, String assetFolder, String displayName, Instant createdAt,
            long bytes) {
        return new Asset(publicId, "image", "upload", createdAt, bytes, "jpg",
                Objects.requireNonNull(assetFolder, "assetFolder"), Objects.requireNonNull(displayName, "displayName"));
    }

    /** An {@code image/upload} asset with format {@code jpg}. */
    public static Asset image(String publicId, Instant createdAt, long bytes) {
        return new Asset(publicId, "image", "upload", createdAt, bytes, "jpg", null);
    }

    /** An asset with a default format for its resource type (jpg, mp4, none for raw). */
    public static Asset of(String publicId, String resourceType, String type, Instant createdAt, long bytes) {
        String format = switch (resourceType == null ? "image" : resourceType) {
            case "video" -> "mp4";
            case "raw" -> null;
            default -> "jpg";
        };
        return new Asset(publicId, resourceType, type, createdAt, bytes, format, null);
    }

    public Asset withFormat(String newFormat) {
        return new Asset(publicId, resourceType, type, createdAt, bytes, newFormat, assetFolder, displayName);
    }

    public Asset withAssetFolder(String newAssetFolder) {
        return new Asset(publicId, resourceType, type, createdAt, bytes, format, newAssetFolder, displayName);
    }

}
