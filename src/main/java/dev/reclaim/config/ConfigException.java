package dev.reclaim.config;

/** Invalid configuration: the message names the file, the sweep or store, and the field. Nothing runs. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
