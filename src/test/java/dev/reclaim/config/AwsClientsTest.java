package dev.reclaim.config;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;

/** One S3 client per distinct connection: region, endpoint, addressing style and key pair. */
class AwsClientsTest {
    private static final URI SUPABASE = URI.create("https://ref.storage.supabase.co/storage/v1/s3");
    private static final StoreConfig.Credentials KEYS_A = new StoreConfig.Credentials("A_ID", "key-id-a", "A_SECRET", "secret-a");
    private static final StoreConfig.Credentials KEYS_B = new StoreConfig.Credentials("B_ID", "key-id-b", "B_SECRET", "secret-b");

    @Test
    void shouldShareOneClient_betweenStoresOnTheSameConnection_andBuildOneForEachOther() {
        try (AwsClients aws = new AwsClients(new Settings.Aws("us-east-1", null, null, "process-id", "process-secret", null))) {
            S3Client a = aws.s3("eu-west-2", SUPABASE, true, KEYS_A);

            assertThat(aws.s3("eu-west-2", SUPABASE, true, new StoreConfig.Credentials("A_ID", "key-id-a", "A_SECRET", "secret-a")))
                    .isSameAs(a);
            assertThat(aws.s3("eu-west-2", SUPABASE, true, KEYS_B)).isNotSameAs(a);
            assertThat(aws.s3("eu-west-2", SUPABASE, true, null)).isNotSameAs(a);
            assertThat(aws.s3("eu-west-2", SUPABASE, false, KEYS_A)).isNotSameAs(a);
            assertThat(aws.s3("eu-west-1", SUPABASE, true, KEYS_A)).isNotSameAs(a);
            assertThat(aws.s3("us-east-1", null, false, null)).isSameAs(aws.s3("us-east-1", null, false, null));
        }
    }

    @Test
    void shouldSignWithTheStoresOwnKeys_andWithTheProcessCredentialsWithoutThem() {
        try (AwsClients aws = new AwsClients(new Settings.Aws("us-east-1", null, null, "process-id", "process-secret", null))) {
            AwsCredentials own = (AwsCredentials) aws.s3("eu-west-2", SUPABASE, true, KEYS_B).serviceClientConfiguration()
                    .credentialsProvider().resolveIdentity().join();
            AwsCredentials process = (AwsCredentials) aws.s3("eu-west-2", SUPABASE, true, null).serviceClientConfiguration()
                    .credentialsProvider().resolveIdentity().join();

            assertThat(own.accessKeyId()).isEqualTo("key-id-b");
            assertThat(own.secretAccessKey()).isEqualTo("secret-b");
            assertThat(process.accessKeyId()).isEqualTo("process-id");
        }
    }
}
