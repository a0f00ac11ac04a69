package dev.reclaim.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Lambda Runtime API (2018-06-01) on 127.0.0.1, as the Lambda service serves it to a runtime: {@code next} hands
 * out the invocations the test queues, {@code response} and {@code error} complete them, {@code init/error} records
 * an initialisation failure. A runtime started with {@code AWS_LAMBDA_RUNTIME_API} pointing here runs as in Lambda.
 */
public final class LambdaRuntimeApi implements AutoCloseable {
    private static final String BASE = "/2018-06-01/runtime";

    /** What the runtime answered to one invocation: its response, or the error it posted. */
    public record Answer(boolean error, String body, String errorType) {
    }

    private record Invocation(String requestId, String event) {
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final BlockingQueue<Invocation> pending = new LinkedBlockingQueue<>();
    private final Map<String, CompletableFuture<Answer>> answers = new ConcurrentHashMap<>();
    private final CompletableFuture<String> initError = new CompletableFuture<>();
    private final String functionArn;

    public LambdaRuntimeApi(String functionName) throws IOException {
        this.functionArn = "arn:aws:lambda:us-east-1:123456789012:function:" + functionName;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(threads); // a waiting "next" must not hold up the runtime's other calls
        server.createContext(BASE, this::handle);
        server.start();
    }

    /** The value of {@code AWS_LAMBDA_RUNTIME_API}: host and port, no scheme. */
    public String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /**
     * Queues {@code event} and waits for the runtime's answer. Fails when the runtime reports an initialisation
     * error, or gives no answer within {@code timeout}.
     */
    public Answer invoke(String event, Duration timeout) throws Exception {
        String id = UUID.randomUUID().toString();
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        answers.put(id, answer);
        pending.add(new Invocation(id, event));
        CompletableFuture<Object> first = CompletableFuture.anyOf(answer, initError);
        try {
            Object done = first.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (done instanceof String init) {
                throw new AssertionError("the runtime reported an initialisation error: " + init);
            }
            return (Answer) done;
        } catch (TimeoutException e) {
            throw new AssertionError("the runtime gave no answer within " + timeout, e);
        }
    }

    /** The initialisation error the runtime posted, if any so far. */
    public String initError() {
        return initError.getNow(null);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath().substring(BASE.length());
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (path.equals("/invocation/next") && exchange.getRequestMethod().equals("GET")) {
                Invocation next = pending.take(); // the runtime long-polls, as against Lambda
                exchange.getResponseHeaders().add("Lambda-Runtime-Aws-Request-Id", next.requestId());
                exchange.getResponseHeaders().add("Lambda-Runtime-Deadline-Ms",
                        Long.toString(System.currentTimeMillis() + Duration.ofMinutes(10).toMillis()));
                exchange.getResponseHeaders().add("Lambda-Runtime-Invoked-Function-Arn", functionArn);
                exchange.getResponseHeaders().add("Lambda-Runtime-Trace-Id",
                        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0");
                exchange.getResponseHeaders().add("Content-Type", "application/json");
                reply(exchange, 200, next.event());
            } else if (path.equals("/init/error")) {
                initError.complete(body);
                reply(exchange, 202, "{\"status\":\"OK\"}");
            } else if (path.startsWith("/invocation/") && (path.endsWith("/response") || path.endsWith("/error"))) {
                String id = path.substring("/invocation/".length(), path.lastIndexOf('/'));
                CompletableFuture<Answer> answer = answers.get(id);
                if (answer == null) {
                    reply(exchange, 400, "{\"errorMessage\":\"unknown request id\",\"errorType\":\"InvalidRequestID\"}");
                    return;
                }
                boolean error = path.endsWith("/error");
                answer.complete(new Answer(error, body,
                        error ? exchange.getRequestHeaders().getFirst("Lambda-Runtime-Function-Error-Type") : null));
                reply(exchange, 202, "{\"status\":\"OK\"}");
            } else {
                reply(exchange, 404, "{\"errorMessage\":\"unknown path\",\"errorType\":\"InvalidRequest\"}");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
