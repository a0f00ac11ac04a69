package dev.reclaim.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake of an S3-compatible service's front door, on a port of its own, before a real S3 server (S3Mock, which checks
 * no signature): it knows one access key id and answers any other with 403 {@code InvalidAccessKeyId}, as S3 does; it
 * can answer chosen operations with 501 {@code NotImplemented}, as a service that lacks them does; the rest it
 * forwards unchanged. It records the key id each request was signed with (the {@code Credential=<keyId>/...} of its
 * SigV4 {@code Authorization} header). It checks the key id only, not the signature itself. It can also stop
 * answering a kind of request, as a service that hangs, answer chosen requests with an error of S3's own (503
 * {@code SlowDown}, 400 {@code MalformedXML}) so the SDK's own retries and the store's reading of the answer run, or
 * hold one chosen request until the test decides whether it reaches the server ({@link #hold}: a process killed while
 * its call is in flight).
 */
public final class S3Front implements AutoCloseable {
    private static final Pattern KEY_ID = Pattern.compile("Credential=([^/,\\s]+)/");
    private static final Set<String> NOT_FORWARDED = Set.of("connection", "content-length", "expect", "host",
            "upgrade", "transfer-encoding");

    /** One request as it arrived: method, path, query and the access key id that signed it (null: unsigned). */
    public record Seen(String method, String path, String query, String keyId) {
        /** A {@code method} request with {@code ?subresource} among its query parameters. */
        public boolean is(String method, String subresource) {
            return this.method.equals(method) && query != null && List.of(query.split("&")).stream()
                    .anyMatch(p -> p.equals(subresource) || p.startsWith(subresource + "="));
        }
    }

    private final HttpServer server;
    private final URI backend;
    private final String keyId;
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final List<String> notImplemented = new CopyOnWriteArrayList<>(); // "METHOD ?subresource"
    private final java.util.concurrent.CountDownLatch closing = new java.util.concurrent.CountDownLatch(1);
    private final List<Refusal> refusals = new CopyOnWriteArrayList<>();
    private final java.util.Map<String, AtomicInteger> served = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile String hangingMethod;
    private volatile String hangingSubresource;
    private final java.util.concurrent.atomic.AtomicInteger answeredBeforeHanging = new java.util.concurrent.atomic.AtomicInteger();
    private final List<Hold> holds = new CopyOnWriteArrayList<>();

    /**
     * One request held at the front: the {@code nth} request {@code which} matches, counted from when the hold was
     * made, waits there (the requests before it pass) until {@link #release()} forwards it or {@link #drop()} answers
     * it with a 503 without forwarding, so the server behind never sees it.
     */
    public static final class Hold {
        private final java.util.function.Predicate<Seen> which;
        private final java.util.concurrent.atomic.AtomicInteger left;
        private final java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(1);
        private final java.util.concurrent.CompletableFuture<Boolean> forward = new java.util.concurrent.CompletableFuture<>();

        private Hold(java.util.function.Predicate<Seen> which, int nth) {
            this.which = which;
            this.left = new java.util.concurrent.atomic.AtomicInteger(nth);
        }

        /** Whether the held request arrived within {@code timeout}. */
        public boolean arrived(java.time.Duration timeout) throws InterruptedException {
            return arrived.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        public boolean isHolding() {
            return arrived.getCount() == 0 && !forward.isDone();
        }

        public void release() {
            forward.complete(true);
        }

        public void drop() {
            forward.complete(false);
        }

        /** True when {@code request} is the one to hold (counts it among the matching ones). */
        private boolean takes(Seen request) {
            if (!which.test(request) || left.get() <= 0 || left.decrementAndGet() != 0) {
                return false;
            }
            arrived.countDown();
            return true;
        }

        private boolean awaitDecision() {
            try {
                return forward.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (java.util.concurrent.ExecutionException e) {
                return false;
            }
        }
    }

    private S3Front(URI backend, String keyId) throws IOException {
        this.backend = backend;
        this.keyId = keyId;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "s3-front");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    /** A front before {@code backend} that accepts requests signed with {@code keyId} only. */
    public static S3Front before(URI backend, String keyId) {
        try {
            return new S3Front(backend, keyId);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the S3 front", e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** From now on, {@code method} requests with {@code ?subresource} (e.g. GET versioning, POST delete) get a 501. */
    public S3Front notImplementing(String method, String subresource) {
        notImplemented.add(method + " ?" + subresource);
        return this;
    }

    /** From now on, {@code method} requests after the next {@code answered} are never answered (a service that hangs). */
    public S3Front hangingAfter(String method, int answered) {
        return hangingAfter(method, null, answered);
    }

    /** The same, for {@code method} requests with {@code ?subresource} only (null: all of them). */
    public S3Front hangingAfter(String method, String subresource, int answered) {
        answeredBeforeHanging.set(answered);
        hangingSubresource = subresource;
        hangingMethod = method;
        return this;
    }

    /** Holds the {@code nth} request {@code which} matches from now on (see {@link Hold}). */
    public Hold hold(java.util.function.Predicate<Seen> which, int nth) {
        Hold h = new Hold(which, nth);
        holds.add(h);
        return h;
    }

    /**
     * After the next {@code after} matching requests, the {@code times} following {@code method} requests (null: any)
     * with {@code ?subresource} (null: any) get S3's error document with {@code status} and {@code code}.
     */
    public S3Front refusing(int after, int times, String method, String subresource, int status, String code,
                            String message) {
        refusals.add(new Refusal(method, subresource, new AtomicInteger(after), new AtomicInteger(times), status, code,
                message));
        return this;
    }

    /** From now on every request is forwarded: no refusal left, no hanging (requests already held stay held). */
    public S3Front answering() {
        refusals.clear();
        hangingMethod = null;
        return this;
    }

    /** Requests answered with the error {@code code} (or held, {@code "hang"}) so far, not forwarded. */
    public int served(String code) {
        AtomicInteger n = served.get(code);
        return n == null ? 0 : n.get();
    }

    private record Refusal(String method, String subresource, AtomicInteger skip, AtomicInteger left, int status,
                           String code, String message) {
        synchronized boolean takes(Seen r) {
            boolean matches = subresource == null ? method == null || r.method().equals(method)
                    : r.is(method == null ? r.method() : method, subresource);
            return matches && skip.getAndDecrement() <= 0 && left.getAndDecrement() > 0;
        }
    }

    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            URI uri = exchange.getRequestURI();
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            Matcher m = KEY_ID.matcher(auth == null ? "" : auth);
            Seen request = new Seen(method, uri.getPath(), uri.getRawQuery(), m.find() ? m.group(1) : null);
            seen.add(request);
            byte[] body = exchange.getRequestBody().readAllBytes();
            String hangingOn = hangingSubresource;
            boolean hanging = method.equals(hangingMethod) && (hangingOn == null || request.is(method, hangingOn))
                    && answeredBeforeHanging.getAndDecrement() <= 0;
            Refusal refusal = hanging ? null : refusals.stream().filter(r -> r.takes(request)).findFirst().orElse(null);
            if (hanging) {
                served.computeIfAbsent("hang", k -> new AtomicInteger()).incrementAndGet();
                awaitClosing(); // the client gives up at its deadline; nothing reaches the server behind
            } else if (refusal != null) {
                served.computeIfAbsent(refusal.code(), k -> new AtomicInteger()).incrementAndGet();
                error(exchange, refusal.status(), refusal.code(), refusal.message());
            } else if (!keyId.equals(request.keyId())) {
                error(exchange, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
            } else if (notImplemented.stream().anyMatch(n -> request.is(n.substring(0, n.indexOf(' ')),
                    n.substring(n.indexOf('?') + 1)))) {
                error(exchange, 501, "NotImplemented", "A header you provided implies functionality that is not implemented");
            } else if (holds.stream().filter(h -> h.takes(request)).toList().stream().allMatch(Hold::awaitDecision)) {
                forward(exchange, body);
            } else {
                error(exchange, 503, "ServiceUnavailable", "The request was held and dropped by the test's S3 front.");
            }
        }
    }

    private void forward(HttpExchange exchange, byte[] body) throws IOException {
        HttpRequest.Builder out = HttpRequest.newBuilder(backend.resolve(exchange.getRequestURI().getRawPath()
                        + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery())))
                .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(body));
        exchange.getRequestHeaders().forEach((name, values) -> {
            if (!NOT_FORWARDED.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                values.forEach(v -> out.header(name, v));
            }
        });
        HttpResponse<byte[]> response;
        try {
            response = http.send(out.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        response.headers().map().forEach((name, values) -> {
            if (!NOT_FORWARDED.contains(name.toLowerCase(java.util.Locale.ROOT)) && !name.startsWith(":")) {
                values.forEach(v -> exchange.getResponseHeaders().add(name, v));
            }
        });
        boolean noBody = response.body().length == 0 || "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(response.statusCode(), noBody ? -1 : response.body().length);
        if (!noBody) {
            exchange.getResponseBody().write(response.body());
        }
    }

    private void awaitClosing() {
        try {
            closing.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** S3's error document, as S3 answers it. */
    private static void error(HttpExchange exchange, int status, String code, String message) throws IOException {
        byte[] xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message
                + "</Message><RequestId>reclaim-test</RequestId></Error>").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/xml");
        exchange.sendResponseHeaders(status, xml.length);
        exchange.getResponseBody().write(xml);
    }

    @Override
    public void close() {
        closing.countDown();
        holds.forEach(Hold::drop);
        server.stop(0);
    }
}
