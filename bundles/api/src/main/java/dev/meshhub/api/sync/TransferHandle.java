package dev.meshhub.api.sync;

import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

/** A transfer under way. */
@ProviderType
public interface TransferHandle {

    /**
     * The transfer's id: a pull's sync id, or a push's transfer id (its task id, known once the file
     * is hashed and the task journaled, is given to {@link TransferListener#started}).
     */
    String id();

    /** Completes with the result, or exceptionally with a {@link TransferException} saying why. */
    CompletionStage<TransferResult> result();

    /** Stops the transfer; what arrived is kept for a resume (pulls). */
    void cancel(String reason);
}
