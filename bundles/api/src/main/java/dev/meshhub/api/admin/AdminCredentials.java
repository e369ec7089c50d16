package dev.meshhub.api.admin;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The hub's admin credential, offered by the admin API bundle. Front ends other than the admin API
 * (the HTTP surfaces) ask it whether a presented bearer token is the admin token; the token itself never
 * leaves the provider.
 */
@ProviderType
public interface AdminCredentials {

    /**
     * Whether {@code presentedToken} (the part after {@code "Bearer "}, trimmed) is the admin token, compared
     * in constant time.
     *
     * @param presentedToken what a caller presented; null is never accepted
     * @return true only for the current admin token
     */
    boolean accepts(String presentedToken);
}
