package dev.reclaim.sweep;


import java.sql.SQLException;

/** One kind of cleanup over one configured target. Item failures are counted; an SQLException ends the run. */
public interface Sweep {

    String name();

    SweepTally run(SweepContext ctx) throws SQLException;
}
