package dev.reclaim.sweep;

import dev.reclaim.run.RunContext;
import dev.reclaim.run.SweepTally;

import java.sql.SQLException;

/** One kind of cleanup over one configured target. Item failures are counted; an SQLException ends the run. */
public interface Sweep {

    String name();

    SweepTally run(RunContext ctx) throws SQLException;
}
