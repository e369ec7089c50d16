package dev.meshhub.mirror.impl;

import java.util.HashSet;
import java.util.Set;

/**
 * What the mirror keeps in memory about one node. Every field is guarded by the object's own monitor;
 * {@link DiskMirror} does all the work, this is only the record. Lock order: an upload's monitor may
 * be held while taking this one, never the other way round.
 */
final class NodeState {

    final String nodeId;

    /** Whether the counters below have been computed from the disk. */
    boolean loaded;
    /** Bytes of complete files in the node's tree. */
    long complete;
    /** Bytes of partial uploads, including bytes reserved by writes still going. */
    long partial;
    /**
     * Files and directories in the node's tree and partial directory, plus those open uploads will
     * still create (reserved when they open); recounted from disk with the bytes.
     */
    long entries;
    /** Bumped by every change, so a recount from disk can tell whether it raced with one. */
    long version;
    /** Writes and finishes between their reservation and their outcome. */
    int pending;
    /** Set while the cleanup task removes the node's whole mirror; uploads are refused meanwhile. */
    boolean removing;
    /** Partial names (see {@link DiskMirror#partialName}) held by an open upload or by the cleanup task. */
    final Set<String> busy = new HashSet<>();

    NodeState(String nodeId) {
        this.nodeId = nodeId;
    }
}
