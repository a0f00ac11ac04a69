package dev.reclaim.config;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.utils.SdkAutoCloseable;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every AWS client of one Reclaim (per Lambda container, per CLI run), built on one HTTP client with the credentials
 * of {@link Settings.Aws} (an S3 store may have keys of its own); {@link #close} closes the clients it built, then
 * that HTTP client, once.
 */
public final class AwsClients implements AutoCloseable {
    private final Settings.Aws settings;
    private final SdkHttpClient http;
    private final Map<S3Connection, S3Client> s3ByConnection = new LinkedHashMap<>();
    private final List<SdkAutoCloseable> built = new ArrayList<>();
    private boolean closed;

    /** Clients on a URLConnection HTTP client: 5 s to connect, 30 s per read. */
    public AwsClients(Settings.Aws settings) {
        this.settings = settings;
        this.http = UrlConnectionHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(5))
                .socketTimeout(Duration.ofSeconds(30))
                .build();
    }

    /** What sets one S3 client apart: stores that agree on all four share it. */
    private record S3Connection(String region, URI endpoint, boolean pathStyle, StoreConfig.Credentials credentials) {
    }

    /**
     * One S3 client per region, endpoint (null: AWS's), addressing style and key pair (null: the process's AWS
     * credentials), however many stores share it.
     */
    public synchronized S3Client s3(String region, URI endpoint, boolean pathStyle, StoreConfig.Credentials credentials) {
        return s3ByConnection.computeIfAbsent(new S3Connection(region, endpoint, pathStyle, credentials), key -> {
            S3ClientBuilder builder = configured(S3Client.builder()
                    // Only the checksums S3 requires; newer default checksums are refused by some S3-compatible servers.
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .forcePathStyle(pathStyle), region, endpoint);
            if (credentials != null) {
                builder.credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(credentials.accessKeyId(), credentials.secretAccessKey())));
            }
            return remember(builder.build());
        });
    }

    /** A new SQS client for the region, at {@code endpoint} (null: AWS's). */
    public synchronized SqsClient sqs(String region, URI endpoint) {
        return remember(configured(SqsClient.builder(), region, endpoint).build());
    }

    /**
     * A new CloudWatch client for the region, at {@code endpoint} (null: AWS's); each call, retries included, ends
     * within {@code callTimeout}, so publishing never holds up the run or the handler for long.
     */
    public synchronized CloudWatchClient cloudWatch(String region, URI endpoint, Duration callTimeout) {
        return remember(configured(CloudWatchClient.builder(), region, endpoint)
                .overrideConfiguration(o -> o.apiCallTimeout(callTimeout)).build());
    }

    /** A new Secrets Manager client for the region, at {@code endpoint} (null: AWS's). */
    public synchronized SecretsManagerClient secretsManager(String region, URI endpoint) {
        return remember(configured(SecretsManagerClient.builder(), region, endpoint).build());
    }

    /** Region, credentials, the shared HTTP client and the endpoint (when not AWS's). */
    private <B extends AwsClientBuilder<B, ?> & AwsSyncClientBuilder<B, ?>> B configured(B builder, String region,
                                                                                        URI endpoint) {
        builder.region(Region.of(region)).credentialsProvider(settings.credentials()).httpClient(http);
        return endpoint == null ? builder : builder.endpointOverride(endpoint);
    }

    private <C extends SdkAutoCloseable> C remember(C client) {
        built.add(client);
        return client;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        built.forEach(SdkAutoCloseable::close);
        http.close();
    }
}
