package dev.meshhub.node;

import java.nio.file.Path;
import java.util.Objects;

import dev.meshhub.proto.v1.HubTrust;

/**
 * How the agent verifies the hub before it sends anything: the CA pin given at join
 * ({@code --ca-pin}), a CA file ({@code --ca-file}), the CA kept from an earlier join (the default
 * once enrolled), no verification at all ({@code --insecure-skip-hub-verification}, logged at every
 * connection), or no TLS ({@code --plaintext}, for a hub whose node port is plaintext on loopback).
 */
public record HubVerification(Kind kind, String pin, Path caFile) {

    /** The ways to verify the hub. */
    public enum Kind { STORED, PIN, CA_FILE, INSECURE, PLAINTEXT }

    public HubVerification {
        Objects.requireNonNull(kind, "kind");
        if (kind == Kind.PIN) {
            pin = HubTrust.parsePin(pin);
        }
        if (kind == Kind.CA_FILE) {
            Objects.requireNonNull(caFile, "caFile");
        }
    }

    /** The CA kept in the workspace from an earlier join; refused when there is none. */
    public static HubVerification stored() {
        return new HubVerification(Kind.STORED, null, null);
    }

    /** @throws IllegalArgumentException when the pin is not {@code sha256:<64 hex>} */
    public static HubVerification pin(String pin) {
        return new HubVerification(Kind.PIN, pin, null);
    }

    public static HubVerification caFile(Path file) {
        return new HubVerification(Kind.CA_FILE, null, file);
    }

    public static HubVerification insecure() {
        return new HubVerification(Kind.INSECURE, null, null);
    }

    public static HubVerification plaintext() {
        return new HubVerification(Kind.PLAINTEXT, null, null);
    }
}
