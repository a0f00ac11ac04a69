package dev.reclaim.testing;

import com.adobe.testing.s3mock.S3MockApplication;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/** A real S3-protocol server (Adobe S3Mock) in this JVM, started once; each test uses buckets of its own. */
public final class TestS3 {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static S3MockApplication app;
    private static S3MockApplication other;
    private static URI endpoint;
    private static S3Client client;

    private TestS3() {
    }

    public static synchronized URI endpoint() {
        if (app == null) {
            app = start();
            endpoint = URI.create("http://127.0.0.1:" + app.getHttpPort());
        }
        return endpoint;
    }

    /** A second S3 server of its own (its own port, its own buckets), started once, for tests of two services. */
    public static synchronized URI otherEndpoint() {
        endpoint(); // the first one sets the JVM up
        if (other == null) {
            other = start();
        }
        return URI.create("http://127.0.0.1:" + other.getHttpPort());
    }

    private static S3MockApplication start() {
        // Spring Boot must leave the project's logback configuration alone.
        System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
        Path root;
        try {
            root = Files.createTempDirectory("s3mock-root");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Object> p = new HashMap<>();
        p.put(S3MockApplication.PROP_HTTP_PORT, "0");
        p.put(S3MockApplication.PROP_HTTPS_PORT, "0");
        p.put(S3MockApplication.PROP_ROOT_DIRECTORY, root.toString());
        p.put(S3MockApplication.PROP_SILENT, "true");
        p.put("com.adobe.testing.s3mock.store.retainFilesOnExit", "false");
        p.put("spring.main.register-shutdown-hook", "false");
        p.put("logging.level.com.adobe.testing.s3mock.service.ObjectService", "OFF");
        S3MockApplication started = S3MockApplication.start(p);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            started.stop();
            deleteTree(root); // S3Mock leaves its root behind even with retainFilesOnExit=false
        }));
        return started;
    }

    private static void deleteTree(Path root) {
        try (var paths = Files.walk(root)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort on exit
        }
    }

    /**
     * S3 refuses to delete one object until the handle is closed: DeleteObjects answers HTTP 200 with a per-key
     * {@code InternalError} for it, as S3 does ({@link S3DeleteRefusals}), whatever the host may do to files.
     */
    public static AutoCloseable blockDeletion(String bucket, String key) {
        if (!exists(bucket, key)) {
            throw new IllegalStateException("S3Mock has no object " + key + " in bucket " + bucket);
        }
        return S3DeleteRefusals.refuse(bucket, key);
    }

    /** A client for test set-up and assertions (the code under test builds its own from the environment). */
    public static synchronized S3Client client() {
        if (client == null) {
            client = client(endpoint());
        }
        return client;
    }

    /** A new client of the S3 server at {@code endpoint}, for set-up and assertions; the caller closes it. */
    public static S3Client client(URI endpoint) {
        return S3Client.builder()
                .endpointOverride(endpoint)
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    /** A new, empty bucket with a unique name. */
    public static String freshBucket(String prefix) {
        String name = prefix + "-" + COUNTER.incrementAndGet();
        client().createBucket(b -> b.bucket(name));
        return name;
    }

    public static void put(String bucket, String key) {
        client().putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString("content of " + key));
    }

    /** Uploads many small objects with a few threads (S3Mock writes each to disk). */
    public static void putAll(String bucket, List<String> keys) {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (String k : keys) {
                futures.add(pool.submit(() -> put(bucket, k)));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException("upload failed", e);
        } finally {
            pool.shutdown();
        }
    }

    public static Set<String> keys(String bucket) {
        Set<String> out = new TreeSet<>();
        for (S3Object o : client().listObjectsV2Paginator(b -> b.bucket(bucket)).contents()) {
            out.add(o.key());
        }
        return out;
    }

    public static boolean exists(String bucket, String key) {
        try {
            client().headObject(b -> b.bucket(bucket).key(key));
            return true;
        } catch (software.amazon.awssdk.services.s3.model.NoSuchKeyException e) {
            return false;
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (e.statusCode() == 404) {
                return false;
            }
            throw e;
        }
    }
}
