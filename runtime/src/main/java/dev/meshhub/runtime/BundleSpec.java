package dev.meshhub.runtime;

import java.util.Objects;

/**
 * One bundle to install, as a features repository describes it.
 *
 * @param location   where the bundle comes from, e.g. {@code mvn:org.apache.felix/org.apache.felix.scr/2.2.12};
 *                   also the location the bundle is installed under
 * @param startLevel the bundle's start level, or {@link #DEFAULT_START_LEVEL} when the repository gives none
 * @param start      whether the bundle is to be started (fragments never are, whatever this says)
 */
public record BundleSpec(String location, int startLevel, boolean start) {

    /** Start level of a bundle the repository gives none for: the framework's default applies. */
    public static final int DEFAULT_START_LEVEL = 0;

    public BundleSpec {
        Objects.requireNonNull(location, "location");
        if (location.isBlank()) {
            throw new IllegalArgumentException("bundle location is empty");
        }
        if (startLevel < 0) {
            throw new IllegalArgumentException("start level of " + location + " is negative: " + startLevel);
        }
    }

    /** Whether the repository named a start level for this bundle. */
    public boolean hasStartLevel() {
        return startLevel != DEFAULT_START_LEVEL;
    }
}
