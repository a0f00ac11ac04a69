package dev.reclaim.bench;

import javax.sql.DataSource;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Counts and times the JDBC calls that cost a database round trip, through a {@link Proxy} around a DataSource and
 * the connections and statements it hands out: every {@code execute*}, {@code commit}, {@code rollback}, and a
 * prepared statement's {@code getMetaData}/{@code getParameterMetaData} (a describe message). Each call is filed
 * under a category that {@code classify} derives from its SQL, so a run can say where its database time went.
 * Used identically by the engine and the hand-written floor.
 */
final class JdbcMeter {
    /** Calls and nanoseconds per category, in first-seen order. Single writer (the thread doing the work). */
    static final class Tally {
        final Map<String, long[]> byCategory = new LinkedHashMap<>();
        /** Progress marks, one per {@code markEvery} commits: {nanoTime, nanos of each category in markCategories}. */
        final java.util.List<long[]> marks = new java.util.ArrayList<>();
        private long markEvery;
        private java.util.List<String> markCategories = java.util.List.of();
        private long commits;

        /** Records a mark now and then after every {@code every} commits (one commit per purged item). */
        synchronized void markEvery(long every, java.util.List<String> categories) {
            markEvery = every;
            markCategories = categories;
            mark();
        }

        private void mark() {
            long[] m = new long[1 + markCategories.size()];
            m[0] = System.nanoTime();
            for (int i = 0; i < markCategories.size(); i++) {
                long[] a = byCategory.get(markCategories.get(i));
                m[i + 1] = a == null ? 0 : a[1];
            }
            marks.add(m);
        }

        synchronized void add(String category, long nanos) {
            long[] a = byCategory.computeIfAbsent(category, k -> new long[2]);
            a[0]++;
            a[1] += nanos;
            if (markEvery > 0 && category.equals("commit") && ++commits % markEvery == 0) {
                mark();
            }
        }

        synchronized long calls() {
            return byCategory.values().stream().mapToLong(a -> a[0]).sum();
        }

        synchronized long nanos() {
            return byCategory.values().stream().mapToLong(a -> a[1]).sum();
        }

        synchronized long calls(String category) {
            long[] a = byCategory.get(category);
            return a == null ? 0 : a[0];
        }

        synchronized long nanos(String category) {
            long[] a = byCategory.get(category);
            return a == null ? 0 : a[1];
        }

        /** Adds time spent outside JDBC (e.g. store calls) so it appears in the breakdown. */
        synchronized void external(String category, long calls, long nanos) {
            long[] a = byCategory.computeIfAbsent(category, k -> new long[2]);
            a[0] += calls;
            a[1] += nanos;
        }

        synchronized Map<String, long[]> snapshot() {
            Map<String, long[]> out = new LinkedHashMap<>();
            byCategory.forEach((k, v) -> out.put(k, v.clone()));
            return out;
        }
    }

    private final Tally tally;
    private final Function<String, String> classify;

    private JdbcMeter(Tally tally, Function<String, String> classify) {
        this.tally = tally;
        this.classify = classify;
    }

    static DataSource wrap(DataSource target, Tally tally, Function<String, String> classify) {
        JdbcMeter m = new JdbcMeter(tally, classify);
        return (DataSource) Proxy.newProxyInstance(JdbcMeter.class.getClassLoader(), new Class<?>[]{DataSource.class},
                (proxy, method, args) -> {
                    Object r = invoke(target, method, args);
                    return r instanceof Connection c && method.getName().equals("getConnection") ? m.connection(c) : r;
                });
    }

    Connection connection(Connection target) {
        return (Connection) Proxy.newProxyInstance(JdbcMeter.class.getClassLoader(), new Class<?>[]{Connection.class},
                (proxy, method, args) -> {
                    String name = method.getName();
                    switch (name) {
                        case "prepareStatement": {
                            PreparedStatement ps = (PreparedStatement) invoke(target, method, args);
                            return statement(ps, PreparedStatement.class, classify.apply((String) args[0]));
                        }
                        case "createStatement": {
                            Statement st = (Statement) invoke(target, method, args);
                            return statement(st, Statement.class, null);
                        }
                        case "commit":
                        case "rollback": {
                            long t0 = System.nanoTime();
                            try {
                                return invoke(target, method, args);
                            } finally {
                                tally.add(name, System.nanoTime() - t0);
                            }
                        }
                        case "unwrap":
                            if (args[0] == Connection.class) {
                                return proxy;
                            }
                            return invoke(target, method, args);
                        default:
                            return invoke(target, method, args);
                    }
                });
    }

    private Object statement(Statement target, Class<? extends Statement> type, String category) {
        InvocationHandler h = (proxy, method, args) -> {
            String name = method.getName();
            boolean roundTrip = name.startsWith("execute")
                    || (category != null && (name.equals("getMetaData") || name.equals("getParameterMetaData")));
            if (!roundTrip) {
                return invoke(target, method, args);
            }
            String cat;
            if (name.startsWith("execute")) {
                cat = category != null ? category
                        : args != null && args.length > 0 && args[0] instanceof String sql ? classify.apply(sql) : "other";
            } else {
                cat = "describe";
            }
            long t0 = System.nanoTime();
            try {
                return invoke(target, method, args);
            } finally {
                tally.add(cat, System.nanoTime() - t0);
            }
        };
        return Proxy.newProxyInstance(JdbcMeter.class.getClassLoader(), new Class<?>[]{type}, h);
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
