package dev.reclaim.config;

import java.util.Map;

/** The whole configuration: where it came from, the stores, and the sweeps in file order. */
public record ReclaimConfig(String source, Map<String, StoreConfig> stores, Map<String, SweepConfig> sweeps) {
}
