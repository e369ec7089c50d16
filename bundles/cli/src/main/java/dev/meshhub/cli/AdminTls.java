package dev.meshhub.cli;

import dev.meshhub.proto.v1.HubAddress;
import dev.meshhub.proto.v1.HubTrust;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.function.Function;

/**
 * How meshctl talks to the admin API: TLS verified by a pin or a CA file when given; plaintext on
 * loopback otherwise (zero flags on the hub's machine); beyond loopback TLS always, verified by the
 * given pin or file, else by the hub's own trust bundle when meshctl runs from the hub's home. The
 * admin token never crosses a network in the clear.
 */
final class AdminTls {

    static final String ENV_CA_PIN = "MESHHUB_ADMIN_CA_PIN";
    static final String ENV_CA_FILE = "MESHHUB_ADMIN_CA_FILE";
    static final String TRUST_IN_HOME = "data/pki/trust.pem";

    /** The channel's credentials, and the trust that verifies the hub (null for plaintext). */
    record Choice(ChannelCredentials credentials, HubTrust trust) {
    }

    private AdminTls() {
    }

    /** As {@link #choose}, keeping the trust manager so a refusal can be explained. */
    static Choice decide(HubAddress address, String caPin, Path caFile, Map<String, String> env, Function<String, String> sysProps) {
        ChannelCredentials credentials = choose(address, caPin, caFile, env, sysProps);
        HubTrust trust = credentials instanceof TlsChannelCredentials tls && tls.getTrustManagers() != null
                && !tls.getTrustManagers().isEmpty() && tls.getTrustManagers().get(0) instanceof HubTrust hubTrust ? hubTrust : null;
        return new Choice(credentials, trust);
    }

    /**
     * @throws CliException (usage, exit 2) when the pin or file is unusable, or the address is remote and nothing says how to
     *                      verify the hub
     */
    static ChannelCredentials choose(HubAddress address, String caPin, Path caFile, Map<String, String> env,
            Function<String, String> sysProps) {
        String pin = caPin != null ? caPin : env.get(ENV_CA_PIN);
        Path file = caFile != null ? caFile : env.get(ENV_CA_FILE) == null || env.get(ENV_CA_FILE).isBlank() ? null
                : Paths.get(env.get(ENV_CA_FILE).strip());
        if (pin != null && !pin.isBlank()) {
            try {
                return tls(HubTrust.pinned(pin));
            } catch (IllegalArgumentException e) {
                throw new CliException(CliException.USAGE, "invalid --ca-pin: " + e.getMessage());
            }
        }
        if (file != null) {
            return tls(anchors(file, "--ca-file"));
        }
        if (address.isLoopback()) {
            return InsecureChannelCredentials.create();
        }
        String home = env.get(AdminToken.ENV_HOME);
        if (home == null || home.isBlank()) {
            home = sysProps.apply(AdminToken.PROP_HOME);
        }
        if (home != null && !home.isBlank() && Files.isRegularFile(Paths.get(home.strip()).resolve(TRUST_IN_HOME))) {
            return tls(anchors(Paths.get(home.strip()).resolve(TRUST_IN_HOME), "the hub's trust bundle"));
        }
        throw new CliException(CliException.USAGE, "the admin API at " + address + " is not on loopback, so meshctl speaks TLS"
                + " and must verify the hub: pass --ca-pin sha256:... ('meshctl ca pin' on the hub prints it) or --ca-file FILE");
    }

    private static HubTrust anchors(Path file, String what) {
        try {
            return HubTrust.anchors(HubTrust.readPem(file));
        } catch (IOException e) {
            throw new CliException(CliException.USAGE, what + ": " + e.getMessage());
        }
    }

    private static ChannelCredentials tls(HubTrust trust) {
        return TlsChannelCredentials.newBuilder().trustManager(trust).build();
    }
}
