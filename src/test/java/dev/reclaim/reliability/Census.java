package dev.reclaim.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reclaim.testing.TestS3;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What of a {@link World} is still there, read from the database and the stores (S3 key by key), so that the reports
 * of the runs between two censuses can be compared with what they changed (promise 5) when earlier runs, killed, left
 * no report: {@link Promises} compares the reports of a whole trial with the world as written.
 */
record Census(long mocs, long renderJobs, long photos, long mocObjects, long renderObjects) {

    static Census of(Trial t) throws Exception {
        World w = t.world;
        Set<String> mocRows = new HashSet<>(t.fx.strings("SELECT id::text FROM moc_instructions"));
        Set<String> jobs = new HashSet<>(t.fx.strings("SELECT id::text FROM render_jobs"));
        long mocs = w.mocs.stream().filter(m -> mocRows.contains(m.id().toString())).count();
        long renderJobs = w.renderJobs.stream().filter(j -> jobs.contains(j.id().toString())).count();
        long photos = w.photos.stream().filter(p -> t.fx.cloudinary.exists(p.publicId())).count();
        // As Promises counts them: the objects a sweep or the outbox may delete (the strays never go).
        Set<String> deletable = new LinkedHashSet<>(w.mocObjects());
        deletable.removeAll(w.strayMocObjects);
        long mocObjects = deletable.stream().filter(k -> TestS3.exists(t.fx.mocBucket, k)).count();
        long renderObjects = w.renderJobs.stream().filter(j -> j.output() != null)
                .filter(j -> TestS3.exists(t.fx.renderBucket, j.output())).count();
        return new Census(mocs, renderJobs, photos, mocObjects, renderObjects);
    }

    /**
     * Promise 5 for the runs between this census and {@code after}: the sums of their reports (ledger JSON, as the CLI
     * prints it) equal what went. Returns the violations, each prefixed with {@code who}.
     */
    List<String> compare(Census after, Map<String, JsonNode> reports, String who) {
        Map<String, Long> reported = new HashMap<>();
        for (JsonNode r : reports.values()) {
            for (JsonNode s : r.path("sweeps")) {
                reported.merge(s.path("name").asText(), s.path("purged").asLong(), Long::sum);
            }
            r.path("outbox").path("deleted").fields()
                    .forEachRemaining(e -> reported.merge("outbox:" + e.getKey(), e.getValue().asLong(), Long::sum));
        }
        List<String> out = new ArrayList<>();
        compare(out, who, "MOCs purged", reported.getOrDefault("moc-purge", 0L), mocs - after.mocs);
        compare(out, who, "render jobs deleted", reported.getOrDefault("render-outputs", 0L), renderJobs - after.renderJobs);
        compare(out, who, "temp photos deleted", reported.getOrDefault("bobblehead-temp-photos", 0L), photos - after.photos);
        compare(out, who, "moc-files objects deleted (outbox + upload-temp)", reported.getOrDefault("outbox:moc-files", 0L)
                + reported.getOrDefault("upload-temp", 0L), mocObjects - after.mocObjects);
        compare(out, who, "render-outputs objects deleted", reported.getOrDefault("outbox:render-outputs", 0L),
                renderObjects - after.renderObjects);
        return out;
    }

    private static void compare(List<String> out, String who, String what, long reported, long observed) {
        if (reported != observed) {
            out.add(who + ": 5 the report tells the truth: " + what + ": the reports say " + reported
                    + ", the stores and database show " + observed);
        }
    }
}
