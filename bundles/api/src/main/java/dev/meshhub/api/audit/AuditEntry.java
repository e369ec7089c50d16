package dev.meshhub.api.audit;

import java.time.Instant;

/**
 * One recorded act.
 *
 * @param id      ascending with time (gaps are possible)
 * @param at      when it was recorded
 * @param actor   who acted ("admin", "shell", "console", "config:FILE", ...)
 * @param action  what, as a dotted verb ("policy.set", "node.revoke", ...)
 * @param subject what it acted on (a node id, an invite id, ...)
 * @param detail  free text
 */
public record AuditEntry(long id, Instant at, String actor, String action, String subject, String detail) {
}
