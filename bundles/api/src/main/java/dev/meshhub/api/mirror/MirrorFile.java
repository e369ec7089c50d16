package dev.meshhub.api.mirror;

import java.nio.file.Path;

/**
 * A file now complete in the mirror.
 *
 * @param nodeId the node it came from
 * @param path   its node-relative path
 * @param file   where it is in the mirror
 * @param size   its size in bytes
 * @param sha256 its SHA-256, lower-case hex
 */
public record MirrorFile(String nodeId, String path, Path file, long size, String sha256) {
}
