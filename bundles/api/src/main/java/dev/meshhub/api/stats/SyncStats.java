package dev.meshhub.api.stats;

/**
 * What file sync completed since the transport started.
 *
 * @param filesPulled files pulled from nodes into the mirror, verified
 * @param bytesPulled bytes those pulls transferred (resumed bytes not counted again)
 * @param filesPushed files pushed to nodes
 * @param bytesPushed bytes of those files
 */
public record SyncStats(long filesPulled, long bytesPulled, long filesPushed, long bytesPushed) {
}
