package dev.reclaim.db;

import dev.reclaim.config.SqlTemplate;

/**
 * Keyset paging around the user's eligibility query: the engine adds {@code id > ?}, the order and the limit, so
 * memory stays O(page) and no page is found by OFFSET. PostgreSQL pushes the bound into the subquery.
 */
public final class RecordPaging {
    private RecordPaging() {
    }

    public static String firstPage(SqlTemplate eligible) {
        return "SELECT id FROM (\n" + strip(eligible.jdbcSql()) + "\n) AS eligible ORDER BY id LIMIT ?";
    }

    public static String nextPage(SqlTemplate eligible) {
        return "SELECT id FROM (\n" + strip(eligible.jdbcSql()) + "\n) AS eligible WHERE id > ? ORDER BY id LIMIT ?";
    }

    /** How many rows are eligible, counted up to a bound (the last parameter): the count stops there. */
    public static String boundedCount(SqlTemplate eligible) {
        return "SELECT count(*) FROM (SELECT 1 FROM (\n" + strip(eligible.jdbcSql()) + "\n) AS eligible LIMIT ?) AS bounded";
    }

    /** Without its trailing semicolons, which a subquery may not hold. */
    private static String strip(String sql) {
        return sql.strip().replaceFirst("[;\\p{javaWhitespace}]+\\z", "");
    }
}
