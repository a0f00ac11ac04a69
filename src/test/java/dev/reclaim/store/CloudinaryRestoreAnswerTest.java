package dev.reclaim.store;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How {@link CloudinaryStore} reads a restore's per-id answer and a lookup's resource, in the shapes the sources
 * disagree on (docs/CLOUDINARY.md section 6): an error as a string or as an object with a message, a placeholder
 * marked by a flag or only by its zero bytes.
 */
class CloudinaryRestoreAnswerTest {

    @Test
    void shouldReadAnErrorAsAStringOrAsAnObjectWithAMessage_andARestoredResourceAsNone() {
        assertThat(CloudinaryStore.restoreError(Map.of("error", "no_backup"))).isEqualTo("no_backup");
        assertThat(CloudinaryStore.restoreError(Map.of("error", Map.of("message", "failed")))).isEqualTo("failed");
        assertThat(CloudinaryStore.restoreError(Map.of("public_id", "users/u1/a", "bytes", 10))).isNull();
        assertThat(CloudinaryStore.restoreError(null)).isNull();
    }

    @Test
    void shouldTakeAFlaggedOrZeroByteResourceForADeletedAssetWithABackup() {
        assertThat(CloudinaryStore.placeholder(Map.of("public_id", "a", "bytes", 10))).isFalse();
        assertThat(CloudinaryStore.placeholder(Map.of("public_id", "a", "bytes", 0, "placeholder", true))).isTrue();
        assertThat(CloudinaryStore.placeholder(Map.of("public_id", "a", "bytes", 0))).isTrue();
        assertThat(CloudinaryStore.placeholder(Map.of("public_id", "a", "bytes", 10, "placeholder", "true"))).isTrue();
    }

    @Test
    void shouldBuildADynamicModePathFromFolderAndDisplayName() {
        assertThat(CloudinaryStore.pathOf(Map.of("public_id", "k3x9", "asset_folder", "users/u1/temp",
                "display_name", "selfie"))).isEqualTo("users/u1/temp/selfie");
        assertThat(CloudinaryStore.pathOf(Map.of("public_id", "k3x9", "asset_folder", ""))).isEqualTo("k3x9");
    }
}
