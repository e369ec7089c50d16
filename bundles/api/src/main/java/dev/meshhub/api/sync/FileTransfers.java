package dev.meshhub.api.sync;

import org.osgi.annotation.versioning.ProviderType;

/**
 * File transfers between nodes and the hub, offered by the transport bundle: pull a file from a
 * node's workspace into the hub's mirror, or push a file to a node's workspace. Both verify size and
 * SHA-256 end to end and never leave a half-written file in place. Refusals are thrown at once;
 * everything later ends {@link TransferHandle#result()}.
 */
@ProviderType
public interface FileTransfers {

    /**
     * Pulls {@code path} from a node's workspace into {@code data/mirror/<node id>/<path>}, resuming
     * what an interrupted pull of the same file left.
     *
     * @param node     the node's id or name
     * @param path     relative to the node's workspace
     * @param listener told of the start and progress (on hub threads; must not block); may be null
     * @throws TransferException refused at once: bad path, unknown or offline node, no mirror
     */
    TransferHandle pull(String node, String path, TransferListener listener) throws TransferException;

    /**
     * Pushes a file to a node's workspace, as a task journaled like any other (kind {@code push}).
     *
     * @param node     the node's id or name
     * @param source   an absolute path of a file on the hub's machine, or {@code mirror:NODE/PATH} for a
     *                 file in another node's mirror
     * @param path     the destination, relative to the node's workspace
     * @param listener told of the start and progress; may be null
     * @throws TransferException refused at once: bad path or source, unknown or offline node
     */
    TransferHandle push(String node, String source, String path, TransferListener listener) throws TransferException;

    /** The transfers running now, with their progress (a snapshot; never blocks). */
    default java.util.List<TransferProgress> inProgress() {
        return java.util.List.of();
    }

    /** Files and bytes pulled and pushed since the transport started (for metrics). Never blocks. */
    default java.util.Optional<dev.meshhub.api.stats.SyncStats> stats() {
        return java.util.Optional.empty();
    }
}
