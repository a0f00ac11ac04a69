package dev.reclaim.bench;

import javax.sql.DataSource;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Proxy} around the DataSource a run uses that counts executions (executeQuery / execute) of prepared
 * statements whose SQL is exactly one of the reference queries (the sweep's own, the store's). Everything else is
 * delegated unchanged (configuration checks only prepare and describe those statements, so they are not counted).
 */
final class AssetQueryCounter {
    private final java.util.Set<String> sql;
    private final AtomicLong executions = new AtomicLong();

    AssetQueryCounter(java.util.Set<String> sql) {
        this.sql = sql;
    }

    long executions() {
        return executions.get();
    }

    DataSource wrap(DataSource ds) {
        return proxy(DataSource.class, ds, (p, m, a) -> {
            Object r = invoke(ds, m, a);
            return r instanceof Connection c ? connection(c) : r;
        });
    }

    private Connection connection(Connection c) {
        return proxy(Connection.class, c, (p, m, a) -> {
            Object r = invoke(c, m, a);
            if (r instanceof PreparedStatement ps && m.getName().equals("prepareStatement")
                    && a != null && a.length > 0 && sql.contains(a[0])) {
                return statement(ps);
            }
            return r;
        });
    }

    private PreparedStatement statement(PreparedStatement ps) {
        return proxy(PreparedStatement.class, ps, (p, m, a) -> {
            if ((m.getName().equals("executeQuery") || m.getName().equals("execute")) && (a == null || a.length == 0)) {
                executions.incrementAndGet();
            }
            return invoke(ps, m, a);
        });
    }

    private static Object invoke(Object target, Method m, Object[] a) throws Throwable {
        try {
            return m.invoke(target, a);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, Object target, InvocationHandler h) {
        return (T) Proxy.newProxyInstance(AssetQueryCounter.class.getClassLoader(), new Class<?>[] {type}, h);
    }
}
