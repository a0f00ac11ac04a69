package dev.reclaim.handler;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import dev.reclaim.Reclaim;
import dev.reclaim.config.Settings;
import dev.reclaim.run.RunRequest;
import dev.reclaim.observe.SentryReporter;
import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.util.Map;
import java.util.function.Function;

/**
 * Lambda SnapStart: the configuration, the clients and the pool are built during initialisation, so they are in the
 * snapshot; a database connection is not. Before the checkpoint the pool's connections are closed, and after every
 * restore whatever the pool still holds is retired, so a connection opened before the snapshot (its socket long dead,
 * or shared by every restored copy) is never used. On a JVM without CRaC the hook is registered and never called.
 */
final class SnapStartHook implements Resource {
    private static final Logger log = LoggerFactory.getLogger(SnapStartHook.class);
    /** CRaC holds resources weakly; this keeps the hook as long as the container's Reclaim. */
    private static SnapStartHook registered;
    private static Reclaim container;

    private final HikariDataSource pool;

    SnapStartHook(DataSource dataSource) {
        this.pool = dataSource instanceof HikariDataSource h ? h : null; // Reclaim's pool is Database.pool's, unwrapped
    }

    /** The container's wiring, built by the first handler and reused by every invocation, its pool hooked to CRaC. */
    static synchronized Reclaim container(Settings settings) {
        if (container == null) {
            container = Reclaim.from(settings);
            registered = new SnapStartHook(container.dataSource());
            Core.getGlobalContext().register(registered);
        }
        return container;
    }

    /**
     * Every handler's start-up (its settings bound from {@code env}, its checks and the container): what fails here
     * fails the container's initialisation, so it goes to Sentry first. The one way both handlers start.
     */
    static <T> T start(Map<String, String> env, Function<Settings, T> handlerStart) {
        try {
            return handlerStart.apply(RunRequest.settings(env));
        } catch (RuntimeException e) {
            SentryReporter.initFailed(env, e);
            throw e;
        }
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) {
        retireConnections("before the snapshot");
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        retireConnections("after a restore");
    }

    /** Idle connections close now; one in use (none should be) closes when it is returned, never to be lent again. */
    private void retireConnections(String when) {
        if (pool == null || pool.isClosed()) {
            return;
        }
        // Never null: the pool is built with its HikariConfig (Database.pool), which starts it.
        HikariPoolMXBean bean = pool.getHikariPoolMXBean();
        int total = bean.getTotalConnections();
        bean.softEvictConnections();
        log.info("SnapStart: retired {} database connection(s) {}", total, when);
    }
}
