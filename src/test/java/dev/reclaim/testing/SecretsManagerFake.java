package dev.reclaim.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * AWS Secrets Manager's GetSecretValue on the wire (the awsJson1_1 protocol), for the SDK pointed at it with
 * {@code AWS_ENDPOINT_URL_SECRETS_MANAGER}: {@code POST /} with {@code X-Amz-Target: secretsmanager.GetSecretValue}
 * and a JSON body; a secret is found by its name or full ARN; errors are HTTP 400 with the exception in
 * {@code __type}, as the service answers them. No emulator of Secrets Manager runs in-process, hence this fake.
 */
public final class SecretsManagerFake implements AutoCloseable {
    public static final String REGION = "us-east-1";
    private static final String ACCOUNT = "123456789012";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final Map<String, String> valueByArn = new ConcurrentHashMap<>();
    private final Map<String, String> arnByName = new ConcurrentHashMap<>();
    private final List<String> requestedIds = new CopyOnWriteArrayList<>();

    private SecretsManagerFake() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::handle);
        server.start();
    }

    public static SecretsManagerFake start() {
        try {
            return new SecretsManagerFake();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the Secrets Manager fake", e);
        }
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Stores a text secret; returns its ARN (name plus the six random characters Secrets Manager appends). */
    public String put(String name, String secretString) {
        String arn = "arn:aws:secretsmanager:" + REGION + ":" + ACCOUNT + ":secret:" + name + "-"
                + UUID.randomUUID().toString().substring(0, 6);
        arnByName.put(name, arn);
        valueByArn.put(arn, secretString);
        return arn;
    }

    /** The SecretId of every GetSecretValue received, in order. */
    public List<String> requestedSecretIds() {
        return List.copyOf(requestedIds);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (!"POST".equals(exchange.getRequestMethod())) {
                error(exchange, 404, "UnknownOperationException", null);
            } else if (auth == null || !auth.startsWith("AWS4-HMAC-SHA256 ")) {
                error(exchange, 400, "MissingAuthenticationTokenException", "Missing Authentication Token");
            } else if (!"secretsmanager.GetSecretValue".equals(target)) {
                error(exchange, 400, "UnknownOperationException", null);
            } else {
                getSecretValue(exchange, JSON.readTree(body));
            }
        }
    }

    private void getSecretValue(HttpExchange exchange, JsonNode request) throws IOException {
        JsonNode id = request.get("SecretId");
        if (id == null || !id.isTextual() || id.asText().isEmpty()) {
            error(exchange, 400, "InvalidParameterException", "You must provide a SecretId.");
            return;
        }
        requestedIds.add(id.asText());
        String arn = valueByArn.containsKey(id.asText()) ? id.asText() : arnByName.get(id.asText());
        if (arn == null) {
            error(exchange, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
            return;
        }
        ObjectNode answer = JSON.createObjectNode();
        answer.put("ARN", arn);
        answer.put("Name", arn.substring(arn.indexOf(":secret:") + 8, arn.length() - 7));
        answer.put("VersionId", UUID.nameUUIDFromBytes(arn.getBytes(StandardCharsets.UTF_8)).toString());
        answer.put("SecretString", valueByArn.get(arn));
        answer.putArray("VersionStages").add("AWSCURRENT");
        answer.put("CreatedDate", 1.7954e9);
        send(exchange, 200, JSON.writeValueAsBytes(answer));
    }

    private static void error(HttpExchange exchange, int status, String type, String message) throws IOException {
        ObjectNode body = JSON.createObjectNode().put("__type", type);
        if (message != null) {
            body.put("message", message);
        }
        send(exchange, status, JSON.writeValueAsBytes(body));
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
        exchange.getResponseHeaders().set("x-amzn-RequestId", UUID.randomUUID().toString());
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
