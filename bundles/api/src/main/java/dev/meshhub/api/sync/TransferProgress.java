package dev.meshhub.api.sync;

import java.time.Instant;

/**
 * A file transfer in progress.
 *
 * @param id        the pull's sync id, or the push's transfer id
 * @param direction {@code pull} (node to the hub's mirror) or {@code push} (to a node)
 * @param nodeId    the node
 * @param path      the file's path in the node's workspace
 * @param bytes     bytes in place so far (resumed bytes included)
 * @param totalSize the file's size, or -1 while not known yet
 * @param startedAt when the hub started it
 */
public record TransferProgress(String id, String direction, String nodeId, String path, long bytes, long totalSize, Instant startedAt) {
}
