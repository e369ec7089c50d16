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
}
