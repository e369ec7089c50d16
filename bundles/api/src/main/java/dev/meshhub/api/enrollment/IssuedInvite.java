package dev.meshhub.api.enrollment;

import java.time.Instant;

/**
 * A freshly created invite. {@link #token()} is the only copy of the secret; show it once.
 *
 * @param inviteId  the public id of the invite (also the token's prefix), safe to log
 * @param token     the full token to hand to the node
 * @param expiresAt when the token stops working
 */
public record IssuedInvite(String inviteId, String token, Instant expiresAt) {
    @Override
    public String toString() {
        return "IssuedInvite[inviteId=" + inviteId + ", expiresAt=" + expiresAt + "]";
    }
}
