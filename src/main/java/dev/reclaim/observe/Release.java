package dev.reclaim.observe;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version Reclaim was built as, from a resource Maven fills in at build time (so tests and the jar agree). */
public final class Release {
    private static final String RESOURCE = "release.properties";

    private Release() {
    }

    /** {@code reclaim@0.1.0}, Sentry's {@code package@version} form; null when the build did not fill it in. */
    public static String current() {
        String version = version();
        return version == null ? null : "reclaim@" + version;
    }

    /** {@code 0.1.0}; null when the build did not fill it in. */
    public static String version() {
        try (InputStream in = Release.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.isBlank() && !v.contains("${")) {
                    return v.trim();
                }
            }
        } catch (IOException ignored) {
            // fall back to the jar's manifest
        }
        return Release.class.getPackage().getImplementationVersion();
    }
}
