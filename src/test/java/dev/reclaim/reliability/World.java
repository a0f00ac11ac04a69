package dev.reclaim.reliability;

import dev.reclaim.testing.ReclaimFixture;
import dev.reclaim.testing.TestS3;
import dev.reclaim.testing.cloudinary.Asset;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

/**
 * A random dataset of the reference applications, written into one test's database, buckets and Cloudinary emulator:
 * MOCs alive, expired and recently deleted that share files and gallery images at random, bricks, render jobs, temp
 * uploads and temp photos of random ages, keys with unicode, spaces, quotes, {@code %}, {@code +} and (rarely)
 * control characters, some outside every prefix. It remembers what it wrote, so the promises are checked against
 * what was there, never against what Reclaim says it did.
 */
final class World {
    enum MocState { ALIVE, EXPIRED, RECENT }

    record Moc(UUID id, UUID user, MocState state, String thumbnail, List<String> files, UUID partsList, int bricks,
               List<UUID> images) {
    }

    record Image(UUID id, String key, String thumbnail) {
    }

    record RenderJob(UUID id, boolean completed, boolean old, boolean referenced, String output) {
    }

    record Photo(String publicId, Instant createdAt, boolean referenced) {
    }

    // Fragments a key is built of: what real users type into file names, and what breaks naive encoders.
    private static final String[] FRAGMENTS = {"a", "b7", "plan", "é", "日本", "😀", " ", "'", "\"", "%", "%2F", "+", "&",
            "<x>", "#", "=", "~", "(1)", "ß", "ü"};
    private static final String CONTROL = "\u0001";

    final List<Moc> mocs = new ArrayList<>();
    final Map<UUID, Image> images = new LinkedHashMap<>();
    final List<RenderJob> renderJobs = new ArrayList<>();
    final List<Photo> photos = new ArrayList<>();
    /** Temp uploads (upload-temp's prefix), with whether a moc_files row of a live MOC holds them. */
    final Map<String, Boolean> tempUploads = new LinkedHashMap<>();
    /** Objects no sweep may touch: outside every sweep's listing, or outside the stores' prefixes. */
    final Set<String> strayMocObjects = new LinkedHashSet<>();
    final Set<String> strayRenderObjects = new LinkedHashSet<>();
    final Set<String> strayPhotos = new LinkedHashSet<>();
    /** Keys a store can never delete (a control character: the whole call is refused, then bisected down to it). */
    final Set<String> undeletable = new HashSet<>();
    final boolean uploadTempOld;
    private final Random random;
    private final int controlPercent;

    private World(Random random, boolean uploadTempOld, int controlPercent) {
        this.random = random;
        this.uploadTempOld = uploadTempOld;
        this.controlPercent = controlPercent;
    }

    /** {@code scale} multiplies every count (1 in the fast suite). */
    static World generate(long seed, int mocCount, int renderJobCount, int photoCount, int scale) {
        Random r = new Random(seed);
        World w = new World(r, r.nextBoolean(), r.nextInt(4) == 0 ? 8 : 0);
        w.build(mocCount * scale, renderJobCount * scale, photoCount * scale);
        return w;
    }

    private String name() {
        StringBuilder b = new StringBuilder();
        int n = 1 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            b.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
        }
        if (random.nextInt(100) < controlPercent) {
            b.append(CONTROL);
        }
        b.append(Integer.toString(random.nextInt(1 << 20), 36)); // unique enough, never a duplicate by accident
        return b.toString();
    }

    /** A temp upload's name: S3Mock (not S3) breaks a whole listing on a key with a control character. */
    private String listedName() {
        String n = name();
        return n.replace(CONTROL, "");
    }

    private String track(String key) {
        if (key.contains(CONTROL)) {
            undeletable.add(key);
        }
        return key;
    }

    private void build(int mocCount, int renderJobCount, int photoCount) {
        List<String> fileKeys = new ArrayList<>();
        int imageCount = Math.max(1, mocCount);
        List<UUID> imageIds = new ArrayList<>();
        for (int i = 0; i < imageCount; i++) {
            UUID id = new UUID(random.nextLong(), random.nextLong());
            String user = "u" + random.nextInt(5);
            images.put(id, new Image(id, track("gallery/" + user + "/" + name() + ".jpg"),
                    random.nextInt(5) == 0 ? null : track("gallery/" + user + "/" + name() + "-thumb.jpg")));
            imageIds.add(id);
        }
        for (int i = 0; i < mocCount; i++) {
            UUID id = new UUID(random.nextLong(), random.nextLong());
            UUID user = new UUID(random.nextLong(), random.nextLong());
            MocState state = MocState.values()[random.nextInt(3)];
            String thumbnail = switch (random.nextInt(20)) {
                case 0 -> null;
                case 1 -> "legacy/" + name() + ".jpg"; // outside moc-files' prefixes: the item can never be purged
                default -> track("mocs/" + user + "/" + name() + "/thumbnail.jpg");
            };
            List<String> files = new ArrayList<>();
            int fileCount = random.nextInt(3);
            for (int f = 0; f < fileCount; f++) {
                String key;
                int pick = random.nextInt(20);
                if (pick < 3 && !fileKeys.isEmpty()) {
                    key = fileKeys.get(random.nextInt(fileKeys.size())); // a file another MOC's row also holds
                } else if (pick == 3) {
                    key = "uploads/tmp/" + listedName() + ".pdf"; // saved from a temp upload, still under uploads/tmp/
                } else {
                    key = track("mocs/" + user + "/" + name() + ".pdf");
                }
                if (!files.contains(key)) {
                    files.add(key);
                    fileKeys.add(key);
                }
            }
            List<UUID> linked = new ArrayList<>();
            int links = random.nextInt(4);
            for (int l = 0; l < links; l++) {
                UUID img = imageIds.get(random.nextInt(imageIds.size()));
                if (!linked.contains(img)) {
                    linked.add(img);
                }
            }
            mocs.add(new Moc(id, user, state, thumbnail, files, new UUID(random.nextLong(), random.nextLong()),
                    random.nextInt(4), linked));
        }
        for (int i = 0; i < renderJobCount; i++) {
            String output = switch (random.nextInt(15)) {
                case 0 -> null;
                case 1 -> "elsewhere/" + name() + ".png"; // outside render-outputs' prefixes
                default -> track("renders/" + name() + ".png");
            };
            renderJobs.add(new RenderJob(new UUID(random.nextLong(), random.nextLong()), random.nextInt(5) != 0,
                    random.nextBoolean(), random.nextInt(3) == 0, output));
        }
        int uploads = 1 + random.nextInt(Math.max(1, mocCount / 2 + 1));
        for (int i = 0; i < uploads; i++) {
            tempUploads.put("uploads/tmp/" + "u" + random.nextInt(3) + "/" + listedName() + ".pdf", false);
        }
        strayMocObjects.add("mocs/stray/" + name() + ".pdf");          // under a prefix, but no sweep lists mocs/
        strayMocObjects.add("uploads/tmpx/" + name() + ".pdf");        // beside the temp prefix, not in it
        strayMocObjects.add("elsewhere/" + name() + ".pdf");           // outside every prefix
        strayRenderObjects.add("renders/stray-" + name() + ".png");    // no sweep lists render outputs
        Instant now = Instant.now();
        for (int i = 0; i < photoCount; i++) {
            boolean old = random.nextBoolean();
            // Never within 10 minutes of the 24 h retention: the run's cutoff and this clock may differ a little.
            long minutes = old ? 24 * 60 + 10 + random.nextInt(10 * 24 * 60) : random.nextInt(24 * 60 - 10);
            photos.add(new Photo(track("users/u" + random.nextInt(4) + "/temp/" + name()),
                    now.minus(Duration.ofMinutes(minutes)), random.nextInt(4) == 0));
        }
        strayPhotos.add("users/u1/profile/" + name());  // old and unreferenced, but outside the temp glob
        strayPhotos.add("other/u1/temp/" + name());     // outside the store's prefixes
    }

    /** Every object written to the moc-files bucket. */
    Set<String> mocObjects() {
        Set<String> mocObjects = new LinkedHashSet<>();
        for (Moc m : mocs) {
            if (m.thumbnail() != null) {
                mocObjects.add(m.thumbnail());
            }
            mocObjects.addAll(m.files());
        }
        for (Image i : images.values()) {
            mocObjects.add(i.key());
            if (i.thumbnail() != null) {
                mocObjects.add(i.thumbnail());
            }
        }
        mocObjects.addAll(tempUploads.keySet());
        mocObjects.addAll(strayMocObjects);
        return mocObjects;
    }

    Set<String> renderObjects() {
        Set<String> out = new LinkedHashSet<>(strayRenderObjects);
        renderJobs.stream().map(RenderJob::output).filter(o -> o != null).forEach(out::add);
        return out;
    }

    /** Writes the rows, uploads the objects, seeds the photos. */
    void write(ReclaimFixture fx) throws Exception {
        try (Connection c = fx.db.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement moc = c.prepareStatement("INSERT INTO moc_instructions (id, user_id, title, thumbnail_key, "
                    + "created_at, deleted_at) VALUES (?, ?, ?, ?, now() - interval '200 days', ?)");
                 PreparedStatement file = c.prepareStatement("INSERT INTO moc_files (moc_id, file_type, s3_key) VALUES (?, 'instructions', ?)");
                 PreparedStatement list = c.prepareStatement("INSERT INTO moc_parts_lists (id, moc_id, name) VALUES (?, ?, 'Main')");
                 PreparedStatement brick = c.prepareStatement("INSERT INTO moc_parts (user_id, part_number, color, parts_list_id, status) "
                         + "VALUES (?, '3001', 'red', ?, 'allocated')");
                 PreparedStatement image = c.prepareStatement("INSERT INTO gallery_images (id, user_id, s3_key, thumbnail_key) VALUES (?, ?, ?, ?)");
                 PreparedStatement link = c.prepareStatement("INSERT INTO moc_gallery_images (moc_id, gallery_image_id) VALUES (?, ?)")) {
                Instant now = Instant.now();
                for (Moc m : mocs) {
                    moc.setObject(1, m.id());
                    moc.setObject(2, m.user());
                    moc.setString(3, "MOC " + m.id());
                    moc.setString(4, m.thumbnail());
                    moc.setTimestamp(5, switch (m.state()) {
                        case ALIVE -> null;
                        case EXPIRED -> Timestamp.from(now.minus(Duration.ofDays(31 + random.nextInt(60))));
                        case RECENT -> Timestamp.from(now.minus(Duration.ofDays(1 + random.nextInt(28))));
                    });
                    moc.addBatch();
                }
                moc.executeBatch();
                for (Image i : images.values()) {
                    image.setObject(1, i.id());
                    image.setObject(2, UUID.randomUUID());
                    image.setString(3, i.key());
                    image.setString(4, i.thumbnail());
                    image.addBatch();
                }
                image.executeBatch();
                for (Moc m : mocs) {
                    for (String f : m.files()) {
                        file.setObject(1, m.id());
                        file.setString(2, f);
                        file.addBatch();
                    }
                    list.setObject(1, m.partsList());
                    list.setObject(2, m.id());
                    list.addBatch();
                    for (UUID img : m.images()) {
                        link.setObject(1, m.id());
                        link.setObject(2, img);
                        link.addBatch();
                    }
                }
                file.executeBatch();
                list.executeBatch();
                link.executeBatch();
                for (Moc m : mocs) {
                    for (int b = 0; b < m.bricks(); b++) {
                        brick.setObject(1, m.user());
                        brick.setObject(2, m.partsList());
                        brick.addBatch();
                    }
                }
                brick.executeBatch();
            }
            try (PreparedStatement job = c.prepareStatement("INSERT INTO render_jobs (id, user_id, status, output_key, completed_at) "
                    + "VALUES (?, ?, ?, ?, ?)");
                 PreparedStatement asset = c.prepareStatement("INSERT INTO user_assets (user_id, name, metadata) "
                         + "VALUES (?, 'render', jsonb_build_object('render_job_id', ?::text))")) {
                Instant now = Instant.now();
                for (RenderJob j : renderJobs) {
                    job.setObject(1, j.id());
                    job.setObject(2, UUID.randomUUID());
                    job.setString(3, j.completed() ? "completed" : "running");
                    job.setString(4, j.output());
                    job.setTimestamp(5, j.completed() ? Timestamp.from(now.minus(j.old() ? Duration.ofHours(2)
                            : Duration.ofMinutes(10))) : null);
                    job.addBatch();
                    if (j.referenced()) {
                        asset.setObject(1, UUID.randomUUID());
                        asset.setString(2, j.id().toString());
                        asset.addBatch();
                    }
                }
                job.executeBatch();
                asset.executeBatch();
            }
            for (Photo p : photos) {
                if (p.referenced()) {
                    savePhoto(c, p.publicId());
                }
            }
            c.commit();
        }
        TestS3.putAll(fx.mocBucket, List.copyOf(mocObjects()));
        TestS3.putAll(fx.renderBucket, List.copyOf(renderObjects()));
        List<Asset> assets = new ArrayList<>();
        for (Photo p : photos) {
            assets.add(Asset.image(p.publicId(), p.createdAt(), 1000));
        }
        for (String s : strayPhotos) {
            assets.add(Asset.image(s, Instant.now().minus(Duration.ofDays(30)), 1000));
        }
        fx.cloudinary.seed(assets);
    }

    /** A saved bobblehead holding {@code publicId}, as the application writes it. */
    static void savePhoto(Connection c, String publicId) throws Exception {
        UUID bobblehead = UUID.randomUUID();
        try (PreparedStatement b = c.prepareStatement("INSERT INTO bobbleheads (id, user_id, name) VALUES (?, ?, 'b')");
             PreparedStatement p = c.prepareStatement("INSERT INTO bobblehead_photos (bobblehead_id, public_id) VALUES (?, ?) "
                     + "ON CONFLICT (public_id) DO NOTHING")) {
            b.setObject(1, bobblehead);
            b.setObject(2, UUID.randomUUID());
            b.executeUpdate();
            p.setObject(1, bobblehead);
            p.setString(2, publicId);
            p.executeUpdate();
        }
    }

    int items() {
        return mocs.size() + renderJobs.size() + photos.size() + tempUploads.size() + images.size();
    }
}
