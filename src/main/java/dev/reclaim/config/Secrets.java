package dev.reclaim.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.model.SecretsManagerException;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The secrets a deployment keeps in AWS Secrets Manager: its environment names each secret by ARN (or name), never its
 * value ({@code <NAME>_SECRET_ARN} fills {@code <NAME>}), and {@link #resolve} reads them once, at initialisation, into
 * the map the configuration is loaded from.
 */
public final class Secrets {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Secrets() {
    }

    /**
     * {@code settings} with every variable whose secret it names filled from Secrets Manager; {@code settings} itself
     * when it names none (no client is built). A database secret may be the password alone or the JSON that RDS-managed
     * secrets hold ({@code {"username": ..., "password": ...}}); the other secrets are the value itself. Read on
     * {@code aws}'s clients (one HTTP client for every AWS call Reclaim makes).
     */
    public static Settings resolve(Settings settings, AwsClients aws) {
        if (settings.secretIds().isEmpty()) {
            return settings;
        }
        Map<String, String> out = new HashMap<>();
        Map<String, SecretsManagerClient> byRegion = new HashMap<>();
        settings.secretIds().forEach((variable, secretId) -> {
            SecretsManagerClient client = byRegion.computeIfAbsent(region(secretId, settings.aws().region()),
                    r -> aws.secretsManager(r, settings.aws().secretsManagerEndpoint()));
            out.put(variable, read(client, variable, variable + "_SECRET_ARN", secretId));
        });
        return settings.withSecrets(out);
    }

    private static String read(SecretsManagerClient client, String variable, String arnVariable, String secretId) {
        String text;
        try {
            text = client.getSecretValue(b -> b.secretId(secretId)).secretString();
        } catch (SecretsManagerException e) {
            throw new ConfigException(arnVariable + ": cannot read secret '" + secretId + "' ("
                    + e.awsErrorDetails().errorCode() + ")", e);
        } catch (SdkException e) {
            throw new ConfigException(arnVariable + ": cannot read secret '" + secretId + "': " + e.getMessage(), e);
        }
        if (text == null) {
            throw new ConfigException(arnVariable + ": secret '" + secretId + "' holds no text (a binary secret?)");
        }
        return "RECLAIM_DB_PASSWORD".equals(variable) ? password(text, arnVariable, secretId) : text.strip();
    }

    /** The password alone, or the {@code password} field of an RDS-managed secret's JSON. */
    private static String password(String text, String arnVariable, String secretId) {
        String t = text.strip();
        if (!t.startsWith("{")) {
            return text;
        }
        JsonNode password;
        try {
            password = JSON.readTree(t).get("password");
        } catch (IOException e) {
            return text; // a password may well start with '{'
        }
        if (password == null || !password.isTextual()) {
            throw new ConfigException(arnVariable + ": secret '" + secretId
                    + "' is JSON without a text field 'password' (the RDS-managed secret format)");
        }
        return password.asText();
    }

    /** The ARN's region (a secret may live in another region), else the function's. */
    private static String region(String secretId, String region) {
        String[] parts = secretId.split(":", 6);
        if (parts.length == 6 && "arn".equals(parts[0]) && !parts[3].isBlank()) {
            return parts[3];
        }
        if (region == null) {
            throw new ConfigException("AWS_REGION is not set (needed to read secret '" + secretId + "')");
        }
        return region;
    }
}
