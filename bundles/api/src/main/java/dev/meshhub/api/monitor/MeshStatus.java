package dev.meshhub.api.monitor;

import java.util.Optional;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Offered by a monitor bundle: the latest mesh snapshot it took. The admin API's
 * {@code GetMeshStatus} (and {@code meshctl status}) answers from the highest-ranked one. A monitor
 * takes snapshots as a {@code ManagementTask}, so this service only hands out what it already has.
 */
@ConsumerType
public interface MeshStatus {

    /** The latest snapshot, or empty before the first one. Answers from memory, never blocks. */
    Optional<MeshSnapshot> latest();

    /**
     * A snapshot taken now, for a caller that must not show a stale one ({@code meshctl status}). It reads
     * the journal, so it blocks up to the monitor's journal timeout: never call it on a network thread.
     * The default, for monitors that cannot take one on demand, is {@link #latest()}.
     *
     * @return the fresh snapshot (which becomes the latest), or the latest when this monitor cannot take one now
     * @throws InterruptedException if interrupted while waiting for the journal
     */
    default Optional<MeshSnapshot> fresh() throws InterruptedException {
        return latest();
    }
}
