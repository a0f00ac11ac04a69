package dev.reclaim.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;

/**
 * CloudWatch's PutMetricData as the AWS SDK 2.35 speaks it (AWS Query protocol): a form-encoded POST
 * ({@code Action=PutMetricData&Namespace=...&MetricData.member.1.MetricName=...}), gzip-compressed when large, signed
 * with SigV4; an XML answer. It holds the API's limits (1000 datums and 1 MB per request, at most 30 dimensions per
 * datum, the standard units, no {@code AWS/} namespace) and answers their errors as CloudWatch does, as 400
 * {@code <ErrorResponse>} XML with a {@code Sender} type. It can throttle every request, as CloudWatch does when the
 * account's PutMetricData rate is exceeded. Tests read back the requests it accepted.
 */
public final class TestCloudWatch implements AutoCloseable {
    public static final int MAX_DATUMS = 1000;
    public static final int MAX_BYTES = 1_048_576;
    private static final int MAX_DIMENSIONS = 30;
    /** The shared instance keeps this many requests at most; a test's own keeps all. */
    private static final int SHARED_KEPT = 1000;
    private static final String XMLNS = "http://monitoring.amazonaws.com/doc/2010-08-01/";
    private static final Set<String> UNITS = Set.of("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
            "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent",
            "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
            "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
            "Count/Second", "None");
    private static TestCloudWatch shared;

    /** One metric datum as CloudWatch received it. */
    public record Datum(String namespace, String name, double value, String unit, Map<String, String> dimensions,
                        Instant timestamp) {
    }

    /** One accepted PutMetricData request; {@code bytes}: its form body, decompressed. */
    public record Request(String namespace, List<Datum> datums, int bytes, boolean gzip) {
    }

    private final HttpServer server;
    private final URI endpoint;
    private final int kept;
    private final List<Request> accepted = new ArrayList<>();
    private final AtomicInteger calls = new AtomicInteger();
    private volatile boolean throttling;
    private volatile boolean hanging;

    private TestCloudWatch(int kept) {
        this.kept = kept;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "test-cloudwatch");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** A server of the test's own: everything it accepted can be read back. */
    public static TestCloudWatch start() {
        return new TestCloudWatch(Integer.MAX_VALUE);
    }

    /** One server for every test that does not look at metrics, so no run ever tries to reach AWS. */
    public static synchronized TestCloudWatch shared() {
        if (shared == null) {
            shared = new TestCloudWatch(SHARED_KEPT);
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
        }
        return shared;
    }

    public URI endpoint() {
        return endpoint;
    }

    /** Answer every request with 400 Throttling (the SDK's retries included) until told otherwise. */
    public void throttle(boolean on) {
        throttling = on;
    }

    /** Accept requests and never answer them (an endpoint that does not respond), until told otherwise or closed. */
    public void hang(boolean on) {
        hanging = on;
    }

    /** Requests received, accepted or not (retries included). */
    public int calls() {
        return calls.get();
    }

    public synchronized List<Request> requests() {
        return List.copyOf(accepted);
    }

    public synchronized List<Datum> datums() {
        return accepted.stream().flatMap(r -> r.datums().stream()).toList();
    }

    /** The datums named {@code name} with exactly these dimensions. */
    public List<Datum> datums(String name, Map<String, String> dimensions) {
        return datums().stream().filter(d -> d.name().equals(name) && d.dimensions().equals(dimensions)).toList();
    }

    private void handle(HttpExchange ex) throws IOException {
        calls.incrementAndGet();
        try (ex) {
            for (long waited = 0; hanging && waited < 60_000; waited += 50) {
                sleep();
            }
            if (!"POST".equals(ex.getRequestMethod())) {
                error(ex, 405, "InvalidAction", "Query requests are POSTed");
                return;
            }
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !auth.startsWith("AWS4-HMAC-SHA256 ")) {
                error(ex, 403, "MissingAuthenticationToken", "Request is missing Authentication Token");
                return;
            }
            byte[] body = read(ex);
            if (body.length > MAX_BYTES) {
                error(ex, 413, "RequestEntityTooLarge", "Request size " + body.length + " exceeded " + MAX_BYTES
                        + " bytes");
                return;
            }
            Map<String, String> form = form(new String(body, StandardCharsets.UTF_8));
            if (!"PutMetricData".equals(form.get("Action"))) {
                error(ex, 400, "InvalidAction", "The action " + form.get("Action") + " is not valid for this web service.");
                return;
            }
            if (throttling) {
                error(ex, 400, "Throttling", "Rate exceeded");
                return;
            }
            String namespace = form.get("Namespace");
            if (namespace == null || namespace.isEmpty()) {
                error(ex, 400, "MissingParameter", "The parameter Namespace is required.");
                return;
            }
            if (namespace.startsWith("AWS/")) {
                error(ex, 400, "InvalidParameterValue", "The value AWS/ for parameter Namespace is invalid.");
                return;
            }
            List<Datum> datums;
            try {
                datums = decode(namespace, form);
            } catch (IllegalArgumentException e) {
                error(ex, 400, "InvalidParameterValue", e.getMessage());
                return;
            }
            if (datums.isEmpty()) {
                error(ex, 400, "MissingParameter", "The parameter MetricData is required.");
                return;
            }
            if (datums.size() > MAX_DATUMS) {
                error(ex, 400, "InvalidParameterValue", "The collection MetricData must not have a size greater than "
                        + MAX_DATUMS + ".");
                return;
            }
            synchronized (this) {
                accepted.add(new Request(namespace, datums, body.length,
                        "gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))));
                while (accepted.size() > kept) {
                    accepted.remove(0);
                }
            }
            answer(ex, 200, "<PutMetricDataResponse xmlns=\"" + XMLNS + "\"><ResponseMetadata><RequestId>"
                    + UUID.randomUUID() + "</RequestId></ResponseMetadata></PutMetricDataResponse>");
        }
    }

    private static byte[] read(HttpExchange ex) throws IOException {
        InputStream in = ex.getRequestBody();
        if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
            in = new GZIPInputStream(in);
        }
        // read one byte past the limit, so an oversized body is seen without holding all of it
        byte[] body = in.readNBytes(MAX_BYTES + 1);
        in.transferTo(OutputStream.nullOutputStream());
        return body;
    }

    private static Map<String, String> form(String body) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    /** {@code MetricData.member.N.*}, N from 1 with no gap, as the Query protocol numbers list members. */
    private static List<Datum> decode(String namespace, Map<String, String> form) {
        List<Datum> out = new ArrayList<>();
        for (int n = 1; form.containsKey("MetricData.member." + n + ".MetricName"); n++) {
            String p = "MetricData.member." + n + ".";
            String name = form.get(p + "MetricName");
            if (name.isEmpty() || name.length() > 255) {
                throw new IllegalArgumentException("The value for parameter " + p + "MetricName is invalid.");
            }
            String unit = form.get(p + "Unit");
            if (unit != null && !UNITS.contains(unit)) {
                throw new IllegalArgumentException("The value " + unit + " for parameter " + p + "Unit is invalid.");
            }
            String value = form.get(p + "Value");
            if (value == null) {
                throw new IllegalArgumentException("The parameter " + p + "Value is required (no Values or StatisticValues sent).");
            }
            double v = Double.parseDouble(value);
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("The value " + value + " for parameter " + p + "Value is invalid.");
            }
            Map<String, String> dims = new TreeMap<>();
            for (int d = 1; form.containsKey(p + "Dimensions.member." + d + ".Name"); d++) {
                dims.put(form.get(p + "Dimensions.member." + d + ".Name"), form.get(p + "Dimensions.member." + d + ".Value"));
            }
            if (dims.size() > MAX_DIMENSIONS) {
                throw new IllegalArgumentException("The collection " + p + "Dimensions must not have a size greater than "
                        + MAX_DIMENSIONS + ".");
            }
            String ts = form.get(p + "Timestamp");
            out.add(new Datum(namespace, name, v, unit, dims, ts == null ? null : Instant.parse(ts)));
        }
        return out;
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        answer(ex, status, "<ErrorResponse xmlns=\"" + XMLNS + "\"><Error><Type>Sender</Type><Code>" + code
                + "</Code><Message>" + message.replace("&", "&amp;").replace("<", "&lt;") + "</Message></Error><RequestId>"
                + UUID.randomUUID() + "</RequestId></ErrorResponse>");
    }

    private static void answer(HttpExchange ex, int status, String xml) throws IOException {
        byte[] bytes = xml.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/xml");
        ex.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    private static void sleep() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the server: later calls find nothing listening (connection refused). */
    @Override
    public void close() {
        hanging = false;
        server.stop(0);
    }
}
