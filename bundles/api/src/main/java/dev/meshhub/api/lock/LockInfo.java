package dev.meshhub.api.lock;

import java.time.Instant;

/**
 * A live lock, as listed by {@link LockRegistry#locks()}.
 *
 * @param key        what is locked
 * @param owner      who holds it
 * @param acquiredAt when it was taken
 * @param expiresAt  when the sweep may remove it unless renewed
 */
public record LockInfo(String key, String owner, Instant acquiredAt, Instant expiresAt) {
}
