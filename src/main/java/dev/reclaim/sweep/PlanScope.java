package dev.reclaim.sweep;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * A reviewed plan a run applies: sweeps may act only on what it holds, so the plan can narrow a run, never widen it.
 * Every other check still runs at apply time.
 */
public interface PlanScope {
    /**
     * Which of {@code values} (record ids as text when {@code store} is null, else keys of {@code store}) the plan holds
     * for {@code sweep}, in their order; one query.
     */
    List<String> admit(Connection c, String sweep, String store, List<String> values) throws SQLException;
}
