package dev.reclaim.sweep;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * Where an assets sweep's listing resumes ({@code reclaim.listing_positions}): the store's cursor (null: the start),
 * the last key looked at, and the full passes completed. It belongs to a {@code fingerprint} of the store, its scope
 * and the prefix: under another one the listing starts over. {@code carried}: the run that left it stopped holding
 * orphans short of a delete batch, so the next run settles its first page before listing on (else a run that always
 * stops at the same place would re-list the same pages for ever).
 */
public record ListingPosition(String sweep, String fingerprint, String cursor, String lastKey, long passes,
                              boolean carried, long cursorRefused, Instant updatedAt) {

    /** The start of a listing under {@code fingerprint}, no pass completed. */
    static ListingPosition start(String sweep, String fingerprint) {
        return new ListingPosition(sweep, fingerprint, null, null, 0, false, 0, null);
    }

    /** What a listing's cursor belongs to: the sweep's store, the store's scope (bucket, account, folder mode), the prefix. */
    static String fingerprint(String store, String scope, String prefix) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(
                    ("store=" + store + "\nscope=" + scope + "\nprefix=" + prefix).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The kept position of {@code sweep}, whatever its fingerprint; null when there is none, or Reclaim's schema does
     * not have the table yet (a dry run before the first real run).
     */
    static ListingPosition read(Connection c, String sweep) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT fingerprint, cursor, last_key, passes, carried, cursor_refused, updated_at
                  FROM reclaim.listing_positions WHERE sweep = ?""")) {
            ps.setString(1, sweep);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new ListingPosition(sweep, rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getLong(4), rs.getBoolean(5), rs.getLong(6), rs.getTimestamp(7).toInstant()) : null;
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState())) { // no table, or no schema yet
                return null;
            }
            throw e;
        }
    }

    /** Keeps this position for the sweep's next run ({@code c} in auto-commit). */
    void save(Connection c, UUID runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO reclaim.listing_positions (sweep, fingerprint, cursor, last_key, passes, carried,
                                                      cursor_refused, run_id, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())
                ON CONFLICT (sweep) DO UPDATE SET fingerprint = excluded.fingerprint, cursor = excluded.cursor,
                  last_key = excluded.last_key, passes = excluded.passes, carried = excluded.carried,
                  cursor_refused = excluded.cursor_refused, run_id = excluded.run_id, updated_at = now()""")) {
            ps.setString(1, sweep);
            ps.setString(2, fingerprint);
            ps.setString(3, cursor);
            ps.setString(4, lastKey);
            ps.setLong(5, passes);
            ps.setBoolean(6, carried);
            ps.setLong(7, cursorRefused);
            ps.setObject(8, runId);
            ps.executeUpdate();
        }
    }

    /** Every kept position, by sweep (for {@code reclaim status}); read only. */
    public static List<ListingPosition> all(Connection c) throws SQLException {
        List<ListingPosition> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT sweep, fingerprint, cursor, last_key, passes, carried, cursor_refused, updated_at
                  FROM reclaim.listing_positions ORDER BY sweep""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new ListingPosition(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getLong(5), rs.getBoolean(6), rs.getLong(7), rs.getTimestamp(8).toInstant()));
            }
        } catch (SQLException e) {
            if (!"42P01".equals(e.getSQLState())) { // a schema from before listing positions: none kept
                throw e;
            }
        }
        return out;
    }
}
