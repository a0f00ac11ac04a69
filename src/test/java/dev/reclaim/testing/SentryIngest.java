package dev.reclaim.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sentry.Sentry;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/**
 * Stands in for Sentry's ingest endpoint: receives envelopes at {@code POST /api/1/envelope/} (gzip or not) and keeps
 * their items. An envelope is a header line, then per item a header line (its {@code type}, and its {@code length}
 * in bytes when given) and the payload (that many bytes, else up to the next newline).
 */
public final class SentryIngest implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One envelope item: {@code event}, {@code check_in}, {@code client_report}, ... */
    public record Item(String type, JsonNode envelopeHeader, JsonNode payload) {
    }

    private HttpServer server; // set when it starts (start(), or before a class's tests)
    private final List<Item> items = new ArrayList<>();
    private final List<String> authHeaders = new ArrayList<>();
    private volatile Duration latency = Duration.ZERO;

    private SentryIngest() {
    }

    private SentryIngest open() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/api/1/envelope/", this::envelope);
        server.start();
        return this;
    }

    /** An ingest started now, for a test that closes it itself. */
    public static SentryIngest start() {
        return new SentryIngest().open();
    }

    /**
     * One ingest for all tests of the class that registers it ({@code @RegisterExtension static final SentryIngest
     * ingest = SentryIngest.perClass();}): started before them, stopped after them with the Sentry SDK closed.
     */
    public static SentryIngest perClass() {
        return new SentryIngest();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        open();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Sentry.close(); // the SDK is a process-wide singleton: later test classes must find it off
        close();
    }

    /** The DSN of project 1 on this server. */
    public String dsn() {
        return "http://publickey@127.0.0.1:" + server.getAddress().getPort() + "/1";
    }

    /** How long each envelope takes to be received: a test can tell a flushed envelope from one still on its way. */
    public void latency(Duration latency) {
        this.latency = latency;
    }

    private void envelope(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"POST".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = exchange.getRequestBody().readAllBytes();
            if ("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
                    body = in.readAllBytes();
                }
            }
            List<Item> parsed = parse(body);
            Thread.sleep(latency.toMillis());
            synchronized (this) {
                authHeaders.add(exchange.getRequestHeaders().getFirst("X-Sentry-Auth"));
                items.addAll(parsed);
                notifyAll();
            }
            byte[] answer = "{}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static List<Item> parse(byte[] body) throws IOException {
        List<Item> out = new ArrayList<>();
        int[] pos = {0};
        JsonNode header = JSON.readTree(line(body, pos));
        while (pos[0] < body.length) {
            byte[] itemHeaderLine = line(body, pos);
            if (itemHeaderLine.length == 0) {
                continue;
            }
            JsonNode itemHeader = JSON.readTree(itemHeaderLine);
            byte[] payload;
            if (itemHeader.has("length")) {
                int length = itemHeader.get("length").asInt();
                payload = java.util.Arrays.copyOfRange(body, pos[0], pos[0] + length);
                pos[0] += length;
                if (pos[0] < body.length && body[pos[0]] == '\n') {
                    pos[0]++;
                }
            } else {
                payload = line(body, pos);
            }
            out.add(new Item(itemHeader.path("type").asText(), header, JSON.readTree(payload)));
        }
        return out;
    }

    private static byte[] line(byte[] body, int[] pos) {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (pos[0] < body.length && body[pos[0]] != '\n') {
            line.write(body[pos[0]++]);
        }
        pos[0]++;
        return line.toByteArray();
    }

    public synchronized List<Item> items() {
        return List.copyOf(items);
    }

    public List<JsonNode> events() {
        return payloads("event");
    }

    public List<JsonNode> checkIns() {
        return payloads("check_in");
    }

    private synchronized List<JsonNode> payloads(String type) {
        return items.stream().filter(i -> i.type().equals(type)).map(Item::payload).toList();
    }

    public synchronized List<String> authHeaders() {
        return List.copyOf(authHeaders);
    }

    /** Waits until {@code count} items of {@code type} match, or the timeout; returns those that arrived. */
    public synchronized List<JsonNode> await(String type, Predicate<JsonNode> match, int count, Duration timeout)
            throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<JsonNode> found = payloads(type).stream().filter(match).toList();
            long left = end - System.nanoTime();
            if (found.size() >= count || left <= 0) {
                return found;
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    public synchronized void clear() {
        latency = Duration.ZERO;
        items.clear();
        authHeaders.clear();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** A port that accepts connections and never answers: a DSN whose host cannot be reached in time. */
    public static final class BlackHole implements AutoCloseable {
        private final ServerSocket socket;
        private final List<java.net.Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();

        public BlackHole() {
            try {
                socket = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            Thread acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        held.add(socket.accept()); // held open, never read, never answered
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "sentry-black-hole");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        /** Connections accepted so far (and left hanging). */
        public int connections() {
            return held.size();
        }

        public String dsn() {
            return "http://publickey@127.0.0.1:" + socket.getLocalPort() + "/1";
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (java.net.Socket s : held) {
                s.close();
            }
        }
    }

    /** A port nobody listens on (connection refused). */
    public static String closedPortDsn() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return "http://publickey@127.0.0.1:" + s.getLocalPort() + "/1";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
