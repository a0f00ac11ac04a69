package dev.reclaim.testing;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The S3 stand-in of the load benchmarks ({@link S3StandIn}) against S3Mock, on the calls Reclaim's S3 store makes: the
 * same objects, the same sequence of listings (continuation tokens, StartAfter as the store resumes, a delimiter) and
 * deletes (quiet and verbose, missing keys, a malformed body, more than 1000 keys), compared answer by answer as the SDK
 * parses them. Keys with unicode, spaces, quotes, %, + and XML specials. Where S3Mock departs from S3's documentation
 * (it sorts keys in UTF-16 order, not UTF-8 binary order: a character above U+FFFF sorts before U+E000..U+FFFF; it
 * lists every deleted key in quiet mode), the stand-in follows the documentation and the test says so.
 */
class S3StandInIT {
    private static final String PREFIX = "uploads/tmp/";
    private static S3StandIn standIn;
    private static S3Client mockClient;
    private static S3Client standInClient;
    private static String mockBucket;
    private static final String BUCKET = "stand-in";

    private static final List<String> KEYS = new ArrayList<>();

    static {
        String[] odd = {"a b.pdf", "quote\"s'.pdf", "100%.pdf", "a+b.pdf", "x&y<z>.pdf", "caf\u00e9.pdf", "\u65e5\u672c.pdf",
                "\uD83D\uDE00.pdf", "tab\there.pdf", "~tilde.pdf", "UPPER.pdf"};
        for (int u = 0; u < 3; u++) {
            for (int i = 0; i < 6; i++) {
                KEYS.add(PREFIX + "u" + u + "/f" + i + ".pdf");
            }
        }
        for (String o : odd) {
            KEYS.add(PREFIX + "odd/" + o);
        }
        KEYS.add(PREFIX + "top.pdf");
        KEYS.add("uploads/tmpx/outside.pdf");
        KEYS.add("mocs/m1/file.pdf");
    }

    @BeforeAll
    static void seed() {
        standIn = S3StandIn.start();
        mockClient = TestS3.client();
        standInClient = TestS3.client(standIn.endpoint());
        mockBucket = TestS3.freshBucket("stand-in-check");
        standInClient.createBucket(b -> b.bucket(BUCKET));
        for (String k : KEYS) {
            for (S3Client c : List.of(mockClient, standInClient)) {
                c.putObject(b -> b.bucket(c == mockClient ? mockBucket : BUCKET).key(k), RequestBody.fromString("content of " + k));
            }
        }
    }

    @AfterAll
    static void stop() {
        standInClient.close();
        standIn.close();
    }

    /** One listing page as the SDK parsed it, tokens reduced to whether there is one. */
    private record Page(List<String> keys, List<Long> sizes, List<String> commonPrefixes, int keyCount, boolean truncated,
                        boolean nextToken) {
        static Page of(ListObjectsV2Response r) {
            r.contents().forEach(o -> assertThat(o.lastModified()).isBetween(Instant.now().minusSeconds(600), Instant.now()));
            return new Page(r.contents().stream().map(S3Object::key).toList(), r.contents().stream().map(S3Object::size).toList(),
                    r.commonPrefixes().stream().map(p -> p.prefix()).toList(), r.keyCount(), r.isTruncated(),
                    r.nextContinuationToken() != null);
        }
    }

    /** Pages until the listing ends; {@code next} builds the following request from a page (null: the end). */
    private static List<Page> pages(S3Client c, String bucket, ListObjectsV2Request first,
                                    Function<ListObjectsV2Response, ListObjectsV2Request> next) {
        List<Page> out = new ArrayList<>();
        ListObjectsV2Request req = first.toBuilder().bucket(bucket).build();
        while (req != null && out.size() < 100) {
            ListObjectsV2Response r = c.listObjectsV2(req);
            out.add(Page.of(r));
            ListObjectsV2Request n = next.apply(r);
            req = n == null ? null : n.toBuilder().bucket(bucket).build();
        }
        return out;
    }

    private static List<Page> both(ListObjectsV2Request first, Function<ListObjectsV2Response, ListObjectsV2Request> next,
                                   List<Page> fromStandIn) {
        fromStandIn.addAll(pages(standInClient, BUCKET, first, next));
        return pages(mockClient, mockBucket, first, next);
    }

    @Test
    void shouldListAsS3MockDoes_pageByPage_withTokensStartAfterAndADelimiter() {
        ListObjectsV2Request byToken = ListObjectsV2Request.builder().prefix(PREFIX).maxKeys(7).build();
        List<Page> standInPages = new ArrayList<>();
        List<Page> mockPages = both(byToken, r -> r.isTruncated() ? byToken.toBuilder()
                .continuationToken(r.nextContinuationToken()).build() : null, standInPages);
        assertThat(standInPages).isEqualTo(mockPages);
        assertThat(mockPages).hasSizeGreaterThan(3);
        assertThat(mockPages.stream().mapToInt(p -> p.keys().size()).sum()).isEqualTo(KEYS.size() - 2);

        // As S3Store resumes: StartAfter the last key listed, 1000 a page (here 5), from a position inside the listing.
        ListObjectsV2Request byStartAfter = ListObjectsV2Request.builder().prefix(PREFIX).maxKeys(5)
                .startAfter(PREFIX + "odd/a b.pdf").build();
        standInPages.clear();
        mockPages = both(byStartAfter, r -> r.isTruncated() && !r.contents().isEmpty() ? byStartAfter.toBuilder()
                .startAfter(r.contents().get(r.contents().size() - 1).key()).build() : null, standInPages);
        assertThat(standInPages).isEqualTo(mockPages);

        // Reclaim lists without a delimiter; compared where S3Mock follows S3 (a page that holds every prefix).
        ListObjectsV2Request delimited = ListObjectsV2Request.builder().prefix(PREFIX).delimiter("/").build();
        standInPages.clear();
        mockPages = both(delimited, r -> r.isTruncated() ? delimited.toBuilder()
                .continuationToken(r.nextContinuationToken()).build() : null, standInPages);
        // KeyCount aside: S3 counts the common prefixes in it, S3Mock only the keys.
        assertThat(standInPages).usingRecursiveFieldByFieldElementComparatorIgnoringFields("keyCount").isEqualTo(mockPages);
        assertThat(standInPages.get(0).keyCount()).isEqualTo(5);
        assertThat(mockPages.stream().flatMap(p -> p.commonPrefixes().stream()).toList())
                .containsExactly(PREFIX + "odd/", PREFIX + "u0/", PREFIX + "u1/", PREFIX + "u2/");
        // S3 counts a common prefix as one key against max-keys (S3Mock returns them all on the first page).
        ListObjectsV2Request small = delimited.toBuilder().maxKeys(2).build();
        List<Page> smallPages = pages(standInClient, BUCKET, small, r -> r.isTruncated() ? small.toBuilder()
                .continuationToken(r.nextContinuationToken()).build() : null);
        assertThat(smallPages).extracting(Page::keyCount).containsExactly(2, 2, 1);
        assertThat(smallPages.stream().flatMap(p -> p.commonPrefixes().stream()).toList())
                .isEqualTo(mockPages.get(0).commonPrefixes());

        ListObjectsV2Request past = ListObjectsV2Request.builder().prefix(PREFIX).startAfter(PREFIX + "zzz").build();
        standInPages.clear();
        assertThat(both(past, r -> null, standInPages)).isEqualTo(standInPages);
        assertThat(standInPages.get(0).keys()).isEmpty();
    }

    @Test
    void shouldDeleteAsS3MockDoes_quietAndVerbose_missingKeysDeleted_malformedAndOversizedRefused() {
        List<String> some = List.of(PREFIX + "u1/f0.pdf", PREFIX + "u1/f1.pdf", PREFIX + "odd/a+b.pdf", PREFIX + "never.pdf",
                PREFIX + "odd/x&y<z>.pdf");
        assertThat(deleted(standInClient, BUCKET, some, false)).isEqualTo(deleted(mockClient, mockBucket, some, false))
                .containsExactlyInAnyOrderElementsOf(some);
        // Quiet mode: S3 answers only the keys that failed; S3Mock lists the deleted ones anyway. Neither fails any.
        List<String> quiet = List.of(PREFIX + "u1/f2.pdf", PREFIX + "missing.pdf");
        assertThat(deleted(standInClient, BUCKET, quiet, true)).isEmpty();
        assertThat(deleted(mockClient, mockBucket, quiet, true)).containsExactlyInAnyOrderElementsOf(quiet);

        // A control character makes the request's XML invalid: the whole request is refused (HTTP 400), nothing deleted.
        List<String> malformed = List.of(PREFIX + "u2/f0.pdf", PREFIX + "bad\u0001.pdf");
        assertThat(refusal(standInClient, BUCKET, malformed)).isEqualTo(refusal(mockClient, mockBucket, malformed)).isEqualTo(400);
        List<String> tooMany = IntStream.range(0, 1001).mapToObj(i -> PREFIX + "none/" + i).toList();
        int mockTooMany = refusal(mockClient, mockBucket, tooMany);
        assertThat(refusal(standInClient, BUCKET, tooMany)).isEqualTo(400);

        standInClient.deleteObject(b -> b.bucket(BUCKET).key(PREFIX + "u0/f5.pdf"));
        mockClient.deleteObject(b -> b.bucket(mockBucket).key(PREFIX + "u0/f5.pdf"));

        assertThat(all(standInClient, BUCKET)).isEqualTo(all(mockClient, mockBucket)).contains(PREFIX + "u2/f0.pdf")
                .doesNotContainAnyElementsOf(some).doesNotContain(PREFIX + "u0/f5.pdf");
        assertThat(standInClient.getBucketVersioning(b -> b.bucket(BUCKET)).status())
                .isEqualTo(mockClient.getBucketVersioning(b -> b.bucket(mockBucket)).status()).isNull();
        // S3 documents at most 1000 keys a DeleteObjects (MalformedXML beyond); S3Mock is more lenient here.
        System.out.println("S3Mock answered a DeleteObjects of 1001 keys with " + mockTooMany + " (S3: 400 MalformedXML)");
    }

    @Test
    void shouldListInUtf8BinaryOrder_asS3Documents_whereS3MockUsesUtf16Order() {
        String bucket = "order";
        standIn.load(bucket, List.of("p/\uFF21", "p/\uD83D\uDE00", "p/\uE000", "p/z"), Instant.now(), 1);
        List<String> keys = all(standInClient, bucket);
        assertThat(keys).containsExactly("p/z", "p/\uE000", "p/\uFF21", "p/\uD83D\uDE00"); // U+1F600 is the largest
        ListObjectsV2Response afterE000 = standInClient.listObjectsV2(b -> b.bucket(bucket).startAfter("p/\uE000"));
        assertThat(afterE000.contents()).extracting(S3Object::key).containsExactly("p/\uFF21", "p/\uD83D\uDE00");
    }

    @Test
    void shouldRefuseADeleteWithoutAChecksumHeader_orWithAWrongOne_asS3Documents() throws Exception {
        String body = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>" + PREFIX
                + "u0/f0.pdf</Key></Object></Delete>";
        HttpClient http = HttpClient.newHttpClient();
        URI uri = URI.create(standIn.endpoint() + "/" + BUCKET + "?delete");
        HttpResponse<String> none = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(none.statusCode()).isEqualTo(400);
        assertThat(none.body()).contains("<Code>InvalidRequest</Code>").contains("Content-MD5");
        HttpResponse<String> wrong = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .header("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(wrong.statusCode()).isEqualTo(400);
        assertThat(wrong.body()).contains("<Code>BadDigest</Code>");
        assertThat(standIn.objects(BUCKET)).containsKey(PREFIX + "u0/f0.pdf");
    }

    private static List<String> deleted(S3Client c, String bucket, List<String> keys, boolean quiet) {
        DeleteObjectsResponse r = c.deleteObjects(b -> b.bucket(bucket).delete(Delete.builder().quiet(quiet)
                .objects(keys.stream().map(k -> ObjectIdentifier.builder().key(k).build()).toList()).build()));
        assertThat(r.errors()).isEmpty();
        return r.deleted().stream().map(d -> d.key()).sorted().toList();
    }

    /** The HTTP status a DeleteObjects of {@code keys} is refused with; 200 when it is not. */
    private static int refusal(S3Client c, String bucket, List<String> keys) {
        try {
            deleted(c, bucket, keys, true);
            return 200;
        } catch (S3Exception e) {
            return e.statusCode();
        }
    }

    private static List<String> all(S3Client c, String bucket) {
        return c.listObjectsV2Paginator(b -> b.bucket(bucket)).contents().stream().map(S3Object::key).toList();
    }
}
