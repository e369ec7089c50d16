package dev.meshhub.api.lock;

import java.time.Instant;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One held lock. {@link #close()} releases it; closing twice, or after it expired or was released
 * with its owner, does nothing.
 */
@ProviderType
public interface IoLock extends AutoCloseable {

    String key();

    String owner();

    Instant acquiredAt();

    /** Pushes the expiry one TTL from now; false if the lock is no longer held (released or expired). */
    boolean renew();

    /** Whether this holder still holds the lock. */
    boolean isHeld();

    @Override
    void close();
}
