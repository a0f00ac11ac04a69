package dev.reclaim.testing;

import dev.reclaim.config.Settings;
import dev.reclaim.run.RunRequest;

import java.util.HashMap;
import java.util.Map;

/** {@link RunRequest#settings} (Settings.from, a usage error for RECLAIM_DRY_RUN alone) for tests whose environment holds only the variables under test (a database URL is required). */
public final class TestSettings {
    private TestSettings() {
    }

    public static Settings of(Map<String, String> env) {
        if (env.containsKey("RECLAIM_DB_URL")) {
            return RunRequest.settings(env);
        }
        Map<String, String> withDatabase = new HashMap<>(env);
        withDatabase.put("RECLAIM_DB_URL", "jdbc:postgresql://localhost:5432/unused");
        return RunRequest.settings(withDatabase);
    }
}
