package dev.meshhub.api.mirror;

/**
 * A node's use of the mirror.
 *
 * @param bytes        complete files plus partials
 * @param partialBytes of which partials (resumable uploads)
 * @param quotaBytes   the node's quota
 */
public record MirrorUsage(long bytes, long partialBytes, long quotaBytes) {
}
