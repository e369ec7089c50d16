package dev.meshhub.api.audit;

import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Durable record of admin acts (invites, revocations, policy changes). Offered by the journal.
 */
@ProviderType
public interface AuditLog {

    /**
     * Records one act; the stage completes once it is durable. Never pass a secret.
     *
     * @param actor   who acted ("admin", "shell", "config:FILE", ...)
     * @param action  what, as a dotted verb ("policy.set", "node.revoke", ...)
     * @param subject what it acted on (a node id, an invite id, ...)
     * @param detail  free text, e.g. "STRICT -> PERMISSIVE"
     */
    CompletionStage<Void> record(String actor, String action, String subject, String detail);

    /**
     * The latest recorded acts, newest first.
     *
     * @param limit at most this many (1 to 1,000)
     * @return the rows; fails with {@link UnsupportedOperationException} from an audit log that cannot be read back
     */
    default CompletionStage<java.util.List<AuditEntry>> recent(int limit) {
        return java.util.concurrent.CompletableFuture.failedFuture(new UnsupportedOperationException("this audit log cannot be read back"));
    }
}
