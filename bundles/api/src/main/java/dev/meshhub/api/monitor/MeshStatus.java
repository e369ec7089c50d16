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
}
