package dev.meshhub.api.lock;

import java.time.Duration;

/**
 * The lock registry's counters.
 *
 * @param live      locks held now
 * @param oldestAge age of the oldest live lock; {@link Duration#ZERO} when none
 * @param acquired  locks taken since start
 * @param released  locks released by their holder or with their owner
 * @param expired   locks removed by the expiry sweep (their holder never released them: a bug or a
 *                  crash worth a look)
 * @param refused   acquisitions refused because another holder had the key
 */
public record LockStats(int live, Duration oldestAge, long acquired, long released, long expired, long refused) {
}
