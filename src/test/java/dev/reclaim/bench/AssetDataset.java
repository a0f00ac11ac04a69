package dev.reclaim.bench;

import dev.reclaim.testing.cloudinary.Asset;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The generated data sets of {@link AssetSweepBenchmark}, defined by formula so that the benchmark JVM (database
 * rows), the emulator JVM (stored assets) and the checks afterwards agree without shipping lists around.
 *
 * <p>Asset number {@code i} (0-based) belongs to user {@code i / 5}; it is referenced by the application iff
 * {@code (i * 37) % 100 < referencedPercent} (37 is coprime to 100, so every 100 consecutive assets hold exactly
 * {@code referencedPercent} referenced ones, scattered rather than in runs). All Cloudinary assets are older than the
 * sweep's 24 h retention.
 */
final class AssetDataset {
    /** Referenced share used throughout (the issue: 70% orphans). */
    static final int REFERENCED_PERCENT = 30;

    private AssetDataset() {
    }

    static boolean referenced(long i, int referencedPercent) {
        return (i * 37) % 100 < referencedPercent;
    }

    /** Cloudinary public id: {@code users/u0000012/temp/p00000061} (sorted by public id = sorted by i). */
    static String publicId(long i) {
        return String.format("users/u%07d/temp/p%08d", i / 5, i);
    }

    /** The same public id as SQL over an integer column {@code i}. */
    private static final String PUBLIC_ID_SQL = "'users/u' || lpad((i / 5)::text, greatest(7, length((i / 5)::text)), '0')"
            + " || '/temp/p' || lpad(i::text, greatest(8, length(i::text)), '0')";

    /** S3 key of the upload-temp data set: {@code uploads/tmp/u00012/f000061.pdf}. */
    static String s3Key(long i) {
        return String.format("uploads/tmp/u%05d/f%06d.pdf", i / 5, i);
    }

    // PostgreSQL's lpad truncates a longer string (lpad('100000', 5, '0') = '10000'); %05d does not: pad to at least.
    private static final String S3_KEY_SQL = "'uploads/tmp/u' || lpad((i / 5)::text, greatest(5, length((i / 5)::text)), '0')"
            + " || '/f' || lpad(i::text, greatest(6, length(i::text)), '0') || '.pdf'";

    static long referencedCount(long n, int referencedPercent) {
        long c = 0;
        for (long i = 0; i < n; i++) {
            if (referenced(i, referencedPercent)) {
                c++;
            }
        }
        return c;
    }

    /** The emulator's assets: created 2 days (+ up to 1 day) before {@code now}, all image/upload jpg. */
    static List<Asset> cloudinaryAssets(long n, Instant now) {
        List<Asset> out = new ArrayList<>((int) n);
        Instant base = now.minus(Duration.ofDays(2));
        for (long i = 0; i < n; i++) {
            out.add(Asset.image(publicId(i), base.minusSeconds(i % 86_400), 150_000 + i % 1000));
        }
        return out;
    }

    /** One bobblehead per user, and a bobblehead_photos row for every referenced asset (set-based). */
    static void seedBobbleheads(DataSource ds, long n, int referencedPercent) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("CREATE TEMP TABLE gen_bh ON COMMIT DROP AS SELECT u, gen_random_uuid() AS id, "
                    + "gen_random_uuid() AS user_id FROM generate_series(0, " + ((n - 1) / 5) + ") u");
            st.execute("INSERT INTO bobbleheads (id, user_id, name) SELECT id, user_id, 'Bobblehead ' || u FROM gen_bh");
            st.execute("INSERT INTO bobblehead_photos (bobblehead_id, public_id, position) "
                    + "SELECT b.id, " + PUBLIC_ID_SQL + ", (i % 5)::int "
                    + "FROM generate_series(0, " + (n - 1) + ") i JOIN gen_bh b ON b.u = i / 5 "
                    + "WHERE (i * 37) % 100 < " + referencedPercent);
            c.commit();
            c.setAutoCommit(true);
            st.execute("ANALYZE bobbleheads");
            st.execute("ANALYZE bobblehead_photos");
        }
    }

    /** One (alive) MOC owning a moc_files row for every referenced upload. */
    static void seedMocFiles(DataSource ds, long n, int referencedPercent) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("CREATE TEMP TABLE gen_moc ON COMMIT DROP AS SELECT gen_random_uuid() AS id, "
                    + "gen_random_uuid() AS user_id");
            st.execute("INSERT INTO moc_instructions (id, user_id, title) SELECT id, user_id, 'Benchmark MOC' FROM gen_moc");
            st.execute("INSERT INTO moc_files (moc_id, file_type, s3_key) "
                    + "SELECT m.id, 'instructions', " + S3_KEY_SQL + " "
                    + "FROM gen_moc m, generate_series(0, " + (n - 1) + ") i "
                    + "WHERE (i * 37) % 100 < " + referencedPercent);
            c.commit();
            c.setAutoCommit(true);
            st.execute("ANALYZE moc_instructions");
            st.execute("ANALYZE moc_files");
        }
    }
}
