package dev.reclaim;

import com.zaxxer.hikari.HikariDataSource;
import dev.reclaim.config.ConfigLoader;
import dev.reclaim.config.ReclaimConfig;
import dev.reclaim.config.SweepConfig;
import dev.reclaim.db.Database;
import dev.reclaim.run.Run;
import dev.reclaim.run.RunReport;
import dev.reclaim.run.RunRequest;
import dev.reclaim.run.UsageException;
import dev.reclaim.store.Stores;
import dev.reclaim.sweep.AssetSweep;
import dev.reclaim.sweep.RecordSweep;
import dev.reclaim.sweep.Sweep;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The front door: everything wired by hand, once (per Lambda container or CLI process), from the configuration
 * file and the environment. Entry points build one and call {@link #run(RunRequest)}.
 */
public final class Reclaim implements AutoCloseable {
    private final ReclaimConfig config;
    private final Map<String, Sweep> sweeps;
    private final Run run;
    private final AutoCloseable[] owned;

    public Reclaim(ReclaimConfig config, DataSource dataSource, Stores stores, AutoCloseable... owned) {
        this.config = config;
        this.sweeps = sweeps(config);
        this.run = new Run(config, dataSource, stores);
        this.owned = owned;
    }

    /** Reads {@code RECLAIM_CONFIG} (default {@code config/reclaim.yaml}) and the database and AWS variables. */
    public static Reclaim fromEnvironment(Map<String, String> env) {
        ReclaimConfig config = ConfigLoader.load(env);
        Stores stores = Stores.build(config, env);
        HikariDataSource pool = Database.pool(env);
        return new Reclaim(config, pool, stores, pool, stores);
    }

    public ReclaimConfig config() {
        return config;
    }

    public RunReport run(RunRequest request) {
        List<Sweep> selected = new ArrayList<>();
        if (request.sweeps().isEmpty()) {
            selected.addAll(sweeps.values());
        } else {
            for (String name : request.sweeps()) {
                Sweep s = sweeps.get(name);
                if (s == null) {
                    throw new UsageException("unknown sweep '" + name + "' (configured in " + config.source() + ": "
                            + String.join(", ", sweeps.keySet()) + ")");
                }
                if (!selected.contains(s)) {
                    selected.add(s);
                }
            }
        }
        return run.execute(request, selected);
    }

    private static Map<String, Sweep> sweeps(ReclaimConfig config) {
        Map<String, Sweep> out = new LinkedHashMap<>();
        for (SweepConfig sc : config.sweeps().values()) {
            if (sc instanceof SweepConfig.Records r) {
                out.put(sc.name(), new RecordSweep(r));
            } else if (sc instanceof SweepConfig.Assets a) {
                out.put(sc.name(), new AssetSweep(a));
            }
        }
        return out;
    }

    @Override
    public void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception ignored) {
                // shutting down
            }
        }
    }
}
