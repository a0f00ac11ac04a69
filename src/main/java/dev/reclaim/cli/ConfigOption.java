package dev.reclaim.cli;

import picocli.CommandLine.Option;

/** {@code --config PATH}, the same on every command that reads the configuration (a picocli mixin). */
final class ConfigOption {
    @Option(names = "--config", paramLabel = "PATH", description = "Configuration file (default: RECLAIM_CONFIG or config/reclaim.yaml).")
    String path;
}
