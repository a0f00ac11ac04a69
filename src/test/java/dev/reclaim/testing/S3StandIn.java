package dev.reclaim.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * An S3 stand-in for loads S3Mock cannot hold (S3Mock rewrites a bucket's index on every PUT, so its set-up grows with
 * the square of the objects): path-style HTTP over a sorted in-memory map per bucket, keys only (no content), so a
 * million keys load in seconds ({@link #load}). It speaks the calls Reclaim's S3 store makes, with S3's documented
 * rules: ListObjectsV2 ({@code prefix}, {@code start-after}, {@code continuation-token}, {@code max-keys} capped at
 * 1000, {@code delimiter}, {@code encoding-type=url}); DeleteObjects (at most 1000 keys, else MalformedXML; XML that
 * does not parse, MalformedXML; a Content-MD5 or {@code x-amz-checksum-*} header required and checked, else
 * InvalidRequest / BadDigest; quiet mode; a missing key counts as deleted); DeleteObject; GetBucketVersioning (never
 * enabled); CreateBucket, HeadBucket, PutObject and HeadObject for set-up. Anything else is 501 NotImplemented, so a
 * call it does not know fails loudly instead of being answered wrong. No signature is checked.
 * {@code S3StandInIT} checks it answers Reclaim's calls as S3Mock does.
 */
public final class S3StandIn implements AutoCloseable {
    public static final int MAX_KEYS = 1000;
    private static final DateTimeFormatter ISO = DateTimeFormatter.ISO_INSTANT;
    private static final String EMPTY_ETAG = "\"d41d8cd98f00b204e9800998ecf8427e\"";
    private static final String NS = "http://s3.amazonaws.com/doc/2006-03-01/";

    /** An object: when it was last written and its size (its content is not kept). */
    public record Obj(Instant lastModified, long size) {
    }

    private final HttpServer server;
    private final Map<String, ConcurrentSkipListMap<String, Obj>> buckets = new ConcurrentHashMap<>();
    private final AtomicLong listCalls = new AtomicLong();
    private final AtomicLong deleteCalls = new AtomicLong();
    private final AtomicLong keysDeleted = new AtomicLong();
    private final AtomicLong otherCalls = new AtomicLong();
    private final AtomicLong largestDelete = new AtomicLong();

    private S3StandIn(int threads) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "s3-stand-in");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    public static S3StandIn start() {
        try {
            return new S3StandIn(8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public void createBucket(String bucket) {
        buckets.putIfAbsent(bucket, new ConcurrentSkipListMap<>(S3StandIn::utf8Compare));
    }

    /** Set-up without HTTP: {@code keys} written to {@code bucket} (created if needed) with this time and size. */
    public void load(String bucket, Iterable<String> keys, Instant lastModified, long size) {
        createBucket(bucket);
        ConcurrentSkipListMap<String, Obj> b = buckets.get(bucket);
        Obj o = new Obj(lastModified.truncatedTo(ChronoUnit.MILLIS), size);
        for (String k : keys) {
            b.put(k, o);
        }
    }

    /** The bucket's keys, in order (a live view: do not hold it across changes you want to compare). */
    public NavigableMap<String, Obj> objects(String bucket) {
        ConcurrentSkipListMap<String, Obj> b = buckets.get(bucket);
        if (b == null) {
            throw new IllegalArgumentException("no bucket " + bucket);
        }
        return b;
    }

    public long listCalls() {
        return listCalls.get();
    }

    public long deleteCalls() {
        return deleteCalls.get();
    }

    public long keysDeleted() {
        return keysDeleted.get();
    }

    /** Calls other than ListObjectsV2 and DeleteObjects (DeleteObject, GetBucketVersioning, set-up). */
    public long otherCalls() {
        return otherCalls.get();
    }

    /** The most keys one DeleteObjects carried. */
    public long largestDelete() {
        return largestDelete.get();
    }

    public void resetCounters() {
        listCalls.set(0);
        deleteCalls.set(0);
        keysDeleted.set(0);
        otherCalls.set(0);
        largestDelete.set(0);
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }

    // ------------------------------------------------------------------------------------------------ HTTP

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body = ex.getRequestBody().readAllBytes();
            String rawPath = ex.getRequestURI().getRawPath();
            String path = percentDecode(rawPath.startsWith("/") ? rawPath.substring(1) : rawPath);
            int slash = path.indexOf('/');
            String bucket = slash < 0 ? path : path.substring(0, slash);
            String key = slash < 0 || slash == path.length() - 1 ? null : path.substring(slash + 1);
            Map<String, String> q = query(ex.getRequestURI().getRawQuery());
            String method = ex.getRequestMethod();
            if (bucket.isEmpty()) {
                error(ex, 501, "NotImplemented", "ListBuckets is not implemented by this stand-in");
                return;
            }
            if (key == null) {
                if (method.equals("PUT") && q.isEmpty()) {
                    otherCalls.incrementAndGet();
                    createBucket(bucket);
                    send(ex, 200, null);
                    return;
                }
                ConcurrentSkipListMap<String, Obj> b = buckets.get(bucket);
                if (b == null) {
                    error(ex, 404, "NoSuchBucket", "The specified bucket does not exist");
                    return;
                }
                if (method.equals("HEAD") && q.isEmpty()) {
                    otherCalls.incrementAndGet();
                    send(ex, 200, null);
                } else if (method.equals("GET") && "2".equals(q.get("list-type"))) {
                    listCalls.incrementAndGet();
                    list(ex, bucket, b, q);
                } else if (method.equals("POST") && q.containsKey("delete")) {
                    deleteCalls.incrementAndGet();
                    deleteObjects(ex, b, body);
                } else if (method.equals("GET") && q.containsKey("versioning")) {
                    otherCalls.incrementAndGet();
                    send(ex, 200, "<VersioningConfiguration xmlns=\"" + NS + "\"/>");
                } else {
                    error(ex, 501, "NotImplemented", method + " /" + bucket + "?" + q.keySet()
                            + " is not implemented by this stand-in");
                }
                return;
            }
            ConcurrentSkipListMap<String, Obj> b = buckets.get(bucket);
            if (b == null) {
                error(ex, 404, "NoSuchBucket", "The specified bucket does not exist");
                return;
            }
            if (!q.isEmpty() && !(q.size() == 1 && q.containsKey("x-id"))) {
                error(ex, 501, "NotImplemented", method + " on an object with " + q.keySet()
                        + " is not implemented by this stand-in");
                return;
            }
            otherCalls.incrementAndGet();
            switch (method) {
                case "PUT" -> {
                    String decoded = ex.getRequestHeaders().getFirst("x-amz-decoded-content-length");
                    long size = decoded != null ? Long.parseLong(decoded) : body.length; // aws-chunked bodies
                    b.put(key, new Obj(Instant.now().truncatedTo(ChronoUnit.MILLIS), size));
                    ex.getResponseHeaders().add("ETag", EMPTY_ETAG);
                    send(ex, 200, null);
                }
                case "DELETE" -> {
                    if (b.remove(key) != null) {
                        keysDeleted.incrementAndGet();
                    }
                    ex.sendResponseHeaders(204, -1);
                }
                case "HEAD" -> {
                    Obj o = b.get(key);
                    if (o == null) {
                        ex.sendResponseHeaders(404, -1);
                    } else {
                        ex.getResponseHeaders().add("ETag", EMPTY_ETAG);
                        ex.getResponseHeaders().add("Last-Modified",
                                DateTimeFormatter.RFC_1123_DATE_TIME.format(o.lastModified().atZone(java.time.ZoneOffset.UTC)));
                        ex.getResponseHeaders().add("Content-Length", Long.toString(o.size()));
                        ex.sendResponseHeaders(200, -1);
                    }
                }
                default -> error(ex, 501, "NotImplemented", method + " on an object is not implemented by this stand-in");
            }
        } catch (RuntimeException e) {
            error(ex, 500, "InternalError", String.valueOf(e));
        }
    }

    /**
     * ListObjectsV2 as S3 documents it: keys after the continuation token (else after start-after) under the prefix, in
     * UTF-8 binary order; with a delimiter, keys sharing a prefix up to it roll up into one CommonPrefixes entry, which
     * counts as one key against max-keys. The token is opaque to clients: here the last key or common prefix returned.
     */
    private void list(HttpExchange ex, String bucket, ConcurrentSkipListMap<String, Obj> b, Map<String, String> q)
            throws IOException {
        String prefix = q.getOrDefault("prefix", "");
        String delimiter = q.get("delimiter");
        if (delimiter != null && delimiter.isEmpty()) {
            delimiter = null;
        }
        String startAfter = q.get("start-after");
        String token = q.get("continuation-token");
        boolean url = "url".equals(q.get("encoding-type"));
        if (q.containsKey("encoding-type") && !url) {
            error(ex, 400, "InvalidArgument", "Invalid Encoding Method specified in Request");
            return;
        }
        int maxKeys = MAX_KEYS;
        if (q.containsKey("max-keys")) {
            try {
                maxKeys = Integer.parseInt(q.get("max-keys"));
            } catch (NumberFormatException e) {
                error(ex, 400, "InvalidArgument", "Provided max-keys not an integer or within integer range");
                return;
            }
            if (maxKeys < 0) {
                error(ex, 400, "InvalidArgument", "Argument maxKeys must be an integer between 0 and 2147483647");
                return;
            }
            maxKeys = Math.min(maxKeys, MAX_KEYS);
        }
        String after;
        if (token != null) {
            try {
                after = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                error(ex, 400, "InvalidArgument", "The continuation token provided is incorrect");
                return;
            }
        } else {
            after = startAfter;
        }
        NavigableMap<String, Obj> from = after == null || utf8Compare(after, prefix) < 0
                ? b.tailMap(prefix, true) : b.tailMap(after, false);
        StringBuilder contents = new StringBuilder();
        StringBuilder common = new StringBuilder();
        int count = 0;
        String last = null;
        boolean truncated = false;
        Iterator<Map.Entry<String, Obj>> it = from.entrySet().iterator();
        String lastCommon = null;
        while (it.hasNext()) {
            Map.Entry<String, Obj> e = it.next();
            String k = e.getKey();
            if (!k.startsWith(prefix)) {
                if (utf8Compare(k, prefix) > 0) {
                    break;
                }
                continue;
            }
            String rolled = null;
            if (delimiter != null) {
                int d = k.indexOf(delimiter, prefix.length());
                if (d >= 0) {
                    rolled = k.substring(0, d + delimiter.length());
                }
            }
            if (rolled != null && rolled.equals(lastCommon)) {
                continue;
            }
            if (rolled != null && after != null && utf8Compare(rolled, after) <= 0 && after.startsWith(rolled)) {
                continue; // a common prefix already returned on an earlier page
            }
            if (count == maxKeys) {
                truncated = true;
                break;
            }
            count++;
            if (rolled != null) {
                lastCommon = rolled;
                last = rolled;
                common.append("<CommonPrefixes><Prefix>").append(xml(enc(rolled, url))).append("</Prefix></CommonPrefixes>");
            } else {
                last = k;
                Obj o = e.getValue();
                contents.append("<Contents><Key>").append(xml(enc(k, url))).append("</Key><LastModified>")
                        .append(ISO.format(o.lastModified())).append("</LastModified><ETag>").append(xml(EMPTY_ETAG))
                        .append("</ETag><Size>").append(o.size()).append("</Size><StorageClass>STANDARD</StorageClass>"
                        + "</Contents>");
            }
        }
        StringBuilder x = new StringBuilder("<ListBucketResult xmlns=\"" + NS + "\">");
        x.append("<Name>").append(xml(bucket)).append("</Name><Prefix>").append(xml(enc(prefix, url))).append("</Prefix>");
        if (startAfter != null) {
            x.append("<StartAfter>").append(xml(enc(startAfter, url))).append("</StartAfter>");
        }
        if (token != null) {
            x.append("<ContinuationToken>").append(xml(token)).append("</ContinuationToken>");
        }
        if (delimiter != null) {
            x.append("<Delimiter>").append(xml(enc(delimiter, url))).append("</Delimiter>");
        }
        if (url) {
            x.append("<EncodingType>url</EncodingType>");
        }
        x.append("<KeyCount>").append(count).append("</KeyCount><MaxKeys>").append(maxKeys).append("</MaxKeys>")
                .append("<IsTruncated>").append(truncated).append("</IsTruncated>");
        if (truncated) {
            x.append("<NextContinuationToken>")
                    .append(Base64.getUrlEncoder().encodeToString(last.getBytes(StandardCharsets.UTF_8)))
                    .append("</NextContinuationToken>");
        }
        x.append(contents).append(common).append("</ListBucketResult>");
        send(ex, 200, x.toString());
    }

    /** DeleteObjects: checksum header required and checked, at most 1000 keys, each answered (quiet: errors only). */
    private void deleteObjects(HttpExchange ex, ConcurrentSkipListMap<String, Obj> b, byte[] body) throws IOException {
        String refusal = checksumRefusal(ex, body);
        if (refusal != null) {
            error(ex, 400, refusal.substring(0, refusal.indexOf(':')), refusal.substring(refusal.indexOf(':') + 2));
            return;
        }
        List<String> keys = new ArrayList<>();
        boolean quiet;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(body));
            Element root = doc.getDocumentElement();
            if (!root.getLocalName().equals("Delete")) {
                throw new IllegalArgumentException("root is " + root.getLocalName());
            }
            NodeList objects = root.getElementsByTagNameNS("*", "Object");
            for (int i = 0; i < objects.getLength(); i++) {
                NodeList k = ((Element) objects.item(i)).getElementsByTagNameNS("*", "Key");
                if (k.getLength() != 1) {
                    throw new IllegalArgumentException("an Object without one Key");
                }
                keys.add(k.item(0).getTextContent());
            }
            NodeList q = root.getElementsByTagNameNS("*", "Quiet");
            quiet = q.getLength() > 0 && Boolean.parseBoolean(q.item(0).getTextContent().trim());
        } catch (Exception e) {
            error(ex, 400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our"
                    + " published schema");
            return;
        }
        if (keys.isEmpty() || keys.size() > MAX_KEYS) {
            error(ex, 400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our"
                    + " published schema");
            return;
        }
        largestDelete.accumulateAndGet(keys.size(), Math::max);
        StringBuilder x = new StringBuilder("<DeleteResult xmlns=\"" + NS + "\">");
        for (String k : keys) {
            if (b.remove(k) != null) {
                keysDeleted.incrementAndGet();
            }
            if (!quiet) {
                x.append("<Deleted><Key>").append(xml(k)).append("</Key></Deleted>");
            }
        }
        x.append("</DeleteResult>");
        send(ex, 200, x.toString());
    }

    /** Null when the request carries a Content-MD5 or an x-amz-checksum-* header that matches the body; else "Code: why". */
    private static String checksumRefusal(HttpExchange ex, byte[] body) {
        var h = ex.getRequestHeaders();
        Map<String, String> algorithms = Map.of("x-amz-checksum-crc32", "CRC32", "x-amz-checksum-crc32c", "CRC32C",
                "x-amz-checksum-sha1", "SHA-1", "x-amz-checksum-sha256", "SHA-256", "content-md5", "MD5");
        boolean any = false;
        for (Map.Entry<String, String> a : algorithms.entrySet()) {
            String sent = h.getFirst(a.getKey());
            if (sent == null) {
                continue;
            }
            any = true;
            if (!sent.equals(Base64.getEncoder().encodeToString(digest(a.getValue(), body)))) {
                return a.getKey().equals("content-md5")
                        ? "BadDigest: The Content-MD5 you specified did not match what we received."
                        : "BadDigest: The " + a.getValue() + " you specified did not match the calculated checksum.";
            }
        }
        return any ? null : "InvalidRequest: Missing required header for this request: Content-MD5";
    }

    private static byte[] digest(String algorithm, byte[] body) {
        if (algorithm.startsWith("CRC32")) {
            java.util.zip.Checksum c = algorithm.equals("CRC32") ? new CRC32() : new CRC32C();
            c.update(body, 0, body.length);
            long v = c.getValue();
            return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
        }
        try {
            return MessageDigest.getInstance(algorithm).digest(body);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        send(ex, status, "<Error><Code>" + xml(code) + "</Code><Message>" + xml(message)
                + "</Message><RequestId>stand-in</RequestId></Error>");
    }

    private static void send(HttpExchange ex, int status, String xml) throws IOException {
        if (xml == null) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        byte[] bytes = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + xml).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/xml");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return q;
        }
        for (String p : raw.split("&")) {
            int eq = p.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? p : p.substring(0, eq), StandardCharsets.UTF_8);
            q.put(k, eq < 0 ? "" : URLDecoder.decode(p.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return q;
    }

    /** %XX decoding only ('+' stays '+': in a path it is a plus sign). */
    private static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length()) {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String enc(String s, boolean url) {
        return url ? URLEncoder.encode(s, StandardCharsets.UTF_8) : s;
    }

    /**
     * S3's order, UTF-8 binary order, which is code point order. Java's String order is UTF-16 order: it differs only
     * where a surrogate (a character above U+FFFF) meets U+E000..U+FFFF, so those are moved past each other.
     */
    static int utf8Compare(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y) {
                if (x >= 0xD800 && y >= 0xD800) {
                    return fixUp(x) - fixUp(y);
                }
                return x - y;
            }
        }
        return a.length() - b.length();
    }

    private static int fixUp(char c) {
        return c >= 0xE000 ? c - 0x800 : c + 0x2000;
    }

    private static String xml(String s) {
        StringBuilder o = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> o.append("&lt;");
                case '>' -> o.append("&gt;");
                case '&' -> o.append("&amp;");
                case '"' -> o.append("&quot;");
                case '\'' -> o.append("&apos;");
                case '\r' -> o.append("&#13;");
                default -> o.append(c);
            }
        }
        return o.toString();
    }

}
