package dev.meshhub.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/** One hub of the run, its simulated nodes, and what they produced. */
final class HubPhase {

    final String label;
    HubInstance hub;
    SimulatedFleet fleet;
    final List<Properties> roundTrips = new ArrayList<>();
    final List<Properties> sweeps = new ArrayList<>();
    /** Why the hub could not be started or its nodes enrolled; null when it could. */
    String startError;
    String roundTripError;
    String sweepError;
    /** Why fewer sweeps ran than asked, or null. */
    String sweepsCut;
    Optional<Integer> maxBatch = Optional.empty();
    boolean pendingLimitRaised;
    long perTaskLogLines;
    String gcPauses = "";
    String streams = "";
    long answered;

    HubPhase(String label) {
        this.label = label;
    }

    boolean usable() {
        return startError == null;
    }
}
