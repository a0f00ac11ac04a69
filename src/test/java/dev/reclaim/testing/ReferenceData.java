package dev.reclaim.testing;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference applications' schemas and generated sample data, built set-based in the database so that 100,000
 * MOCs take seconds. MOC number i is: expired (deleted 31-90 days ago) when i % 10 < 3, recently deleted (5 days
 * ago, kept) when i % 10 == 3, alive otherwise. Every MOC has two files and a thumbnail, a parts list with
 * {@code partsPerMoc} allocated bricks, and two own gallery images; MOCs i and i+1 share one more image when
 * i % 4 == 0.
 */
public final class ReferenceData {
    private ReferenceData() {
    }

    public static void createSchemas(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute(resource("/reference/moc-schema.sql"));
            st.execute(resource("/reference/render-schema.sql"));
            st.execute(resource("/reference/bobblehead-schema.sql"));
        }
    }

    public static void generateMocs(DataSource ds, int mocs, int partsPerMoc) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("CREATE TEMP TABLE gen_moc ON COMMIT DROP AS "
                    + "SELECT i, gen_random_uuid() AS id, gen_random_uuid() AS user_id FROM generate_series(1, " + mocs + ") i");
            st.execute("""
                    INSERT INTO moc_instructions (id, user_id, title, thumbnail_key, created_at, deleted_at)
                    SELECT id, user_id, 'MOC #' || i, 'mocs/' || user_id || '/' || id || '/thumbnail.jpg',
                           now() - interval '200 days',
                           CASE WHEN i % 10 < 3 THEN now() - (31 + i % 60) * interval '1 day'
                                WHEN i % 10 = 3 THEN now() - interval '5 days' END
                    FROM gen_moc""");
            st.execute("""
                    INSERT INTO moc_files (moc_id, file_type, s3_key)
                    SELECT id, t, 'mocs/' || user_id || '/' || id || '/' || t || CASE t WHEN 'instructions' THEN '.pdf' ELSE '.csv' END
                    FROM gen_moc, unnest(ARRAY['instructions', 'parts-list']) t""");
            st.execute("""
                    CREATE TEMP TABLE gen_list ON COMMIT DROP AS
                    SELECT gen_random_uuid() AS list_id, id AS moc_id, user_id FROM gen_moc""");
            st.execute("INSERT INTO moc_parts_lists (id, moc_id, name) SELECT list_id, moc_id, 'Main build' FROM gen_list");
            st.execute("INSERT INTO moc_parts (user_id, part_number, color, parts_list_id, status) "
                    + "SELECT user_id, (3000 + p)::text, 'red', list_id, 'allocated' "
                    + "FROM gen_list, generate_series(1, " + partsPerMoc + ") p");
            st.execute("""
                    CREATE TEMP TABLE gen_img ON COMMIT DROP AS
                    SELECT gen_random_uuid() AS img_id, m.id AS moc_id, m.user_id, m.i, k
                    FROM gen_moc m, generate_series(1, 2) k""");
            st.execute("""
                    INSERT INTO gallery_images (id, user_id, s3_key, thumbnail_key)
                    SELECT img_id, user_id, 'gallery/' || user_id || '/' || img_id || '.jpg',
                           'gallery/' || user_id || '/' || img_id || '-thumb.jpg' FROM gen_img""");
            st.execute("INSERT INTO moc_gallery_images (moc_id, gallery_image_id) SELECT moc_id, img_id FROM gen_img");
            st.execute("""
                    CREATE TEMP TABLE gen_shared ON COMMIT DROP AS
                    SELECT gen_random_uuid() AS img_id, a.id AS moc_a, b.id AS moc_b, a.user_id
                    FROM gen_moc a JOIN gen_moc b ON b.i = a.i + 1 WHERE a.i % 4 = 0""");
            st.execute("""
                    INSERT INTO gallery_images (id, user_id, s3_key, thumbnail_key)
                    SELECT img_id, user_id, 'gallery/' || user_id || '/' || img_id || '.jpg',
                           'gallery/' || user_id || '/' || img_id || '-thumb.jpg' FROM gen_shared""");
            st.execute("""
                    INSERT INTO moc_gallery_images (moc_id, gallery_image_id)
                    SELECT moc_a, img_id FROM gen_shared UNION ALL SELECT moc_b, img_id FROM gen_shared""");
            c.commit();
            st.execute("ANALYZE");
        }
    }

    /**
     * Render jobs: i % 3 == 0 completed 2 hours ago and unreferenced (purged), i % 3 == 1 completed 2 hours ago but
     * referenced by a user asset (kept), i % 3 == 2 completed 10 minutes ago (kept).
     */
    public static void generateRenderJobs(DataSource ds, int jobs) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("CREATE TEMP TABLE gen_job ON COMMIT DROP AS "
                    + "SELECT i, gen_random_uuid() AS id, gen_random_uuid() AS user_id FROM generate_series(1, " + jobs + ") i");
            st.execute("""
                    INSERT INTO render_jobs (id, user_id, status, output_key, completed_at)
                    SELECT id, user_id, 'completed', 'renders/' || id || '.png',
                           CASE WHEN i % 3 = 2 THEN now() - interval '10 minutes' ELSE now() - interval '2 hours' END
                    FROM gen_job""");
            st.execute("""
                    INSERT INTO user_assets (user_id, name, metadata)
                    SELECT user_id, 'Render ' || i, jsonb_build_object('render_job_id', id::text)
                    FROM gen_job WHERE i % 3 = 1""");
            c.commit();
            st.execute("ANALYZE");
        }
    }

    /** Every S3 key the reference rows own, by bucket role: "moc-files" and "render-outputs". */
    public static Map<String, List<String>> ownedKeys(DataSource ds) throws SQLException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        out.put("moc-files", strings(ds, """
                SELECT s3_key FROM moc_files
                UNION ALL SELECT thumbnail_key FROM moc_instructions WHERE thumbnail_key IS NOT NULL
                UNION ALL SELECT s3_key FROM gallery_images
                UNION ALL SELECT thumbnail_key FROM gallery_images WHERE thumbnail_key IS NOT NULL"""));
        out.put("render-outputs", strings(ds, "SELECT output_key FROM render_jobs WHERE output_key IS NOT NULL"));
        return out;
    }

    /** Row counts of the reference tables, for before/after comparisons. */
    public static Map<String, Long> rowCounts(DataSource ds) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String table : List.of("moc_instructions", "moc_files", "moc_parts_lists", "moc_parts",
                "gallery_images", "moc_gallery_images", "render_jobs", "user_assets", "bobbleheads",
                "bobblehead_photos")) {
            out.put(table, count(ds, "SELECT count(*) FROM " + table));
        }
        return out;
    }

    public static long count(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public static List<String> strings(DataSource ds, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    public static String resource(String path) {
        try (InputStream in = ReferenceData.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
