package dev.reclaim.cli;

import dev.reclaim.config.Settings;
import dev.reclaim.run.RunRequest;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** A command that reads the configuration: {@code --config PATH}, the same on each, and the CLI it runs in. */
abstract class ConfiguredCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "PATH", description = "Configuration file (default: RECLAIM_CONFIG or config/reclaim.yaml).")
    String config;

    @ParentCommand
    ReclaimCli cli;

    /** The settings of the CLI's environment, with {@code --config} (when given) as {@code RECLAIM_CONFIG}. */
    Settings settings() {
        Map<String, String> env = new HashMap<>(cli.env());
        if (config != null) {
            env.put(Settings.CONFIG, config);
        }
        return RunRequest.settings(env);
    }

    /** A command that prints a report: {@code --json}, the same on each, for the JSON instead of the summary. */
    abstract static class Reporting extends ConfiguredCommand {
        @Option(names = "--json", description = "Print the JSON report instead of the summary.")
        boolean json;
    }
}
