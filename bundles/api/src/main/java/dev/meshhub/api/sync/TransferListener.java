package dev.meshhub.api.sync;

import org.osgi.annotation.versioning.ConsumerType;

/** Hears how a transfer goes. Called on hub threads: return quickly, never block. */
@ConsumerType
public interface TransferListener {

    /**
     * The transfer started.
     *
     * @param transferId  the pull's sync id, or the push's task id
     * @param resumedFrom bytes already in place from an interrupted transfer (not sent again)
     * @param totalSize   the file's size, or -1 if unknown
     */
    default void started(String transferId, long resumedFrom, long totalSize) {
    }

    /** Bytes of the file transferred so far (resumed bytes included), at most a few times a second. */
    default void progress(long bytes, long totalSize) {
    }
}
