package dev.meshhub.api.sync;

/**
 * A finished transfer.
 *
 * @param nodeId      the node
 * @param path        the node-relative path
 * @param location    where the file now is: the mirror file (pull) or the node-relative path (push)
 * @param size        its size
 * @param sha256      its SHA-256, lower-case hex
 * @param transferred bytes sent by this transfer (the rest was resumed)
 */
public record TransferResult(String nodeId, String path, String location, long size, String sha256, long transferred) {
}
