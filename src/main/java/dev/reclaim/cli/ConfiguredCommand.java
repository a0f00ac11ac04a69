package dev.reclaim.cli;

import dev.reclaim.Reclaim;
import dev.reclaim.config.Settings;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

/** A command that reads the configuration: {@code --config PATH}, the same on each, and the CLI it runs in. */
abstract class ConfiguredCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "PATH", description = "Configuration file (default: RECLAIM_CONFIG or config/reclaim.yaml).")
    String config;

    @ParentCommand
    ReclaimCli cli;

    Settings settings() {
        return cli.settings(config);
    }

    Reclaim reclaim() {
        return Reclaim.from(settings());
    }
}
