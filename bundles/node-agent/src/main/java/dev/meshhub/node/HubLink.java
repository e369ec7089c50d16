package dev.meshhub.node;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

import dev.meshhub.proto.v1.HubTrust;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;

/**
 * The agent's channel to the hub and how it verifies the hub: TLS whose handshake fails unless the
 * hub proves itself ({@link HubTrust}), so no call, and no token or credential, is ever sent to
 * another party. After a verified connection the hub's CA is kept in the workspace, and later starts
 * need no pin.
 */
final class HubLink {

    private static final Logger LOG = Logger.getLogger(HubLink.class.getName());

    private final ManagedChannel channel;
    private final HubTrust trust;
    private final CredentialStore store;
    private final boolean keepCa;

    private HubLink(ManagedChannel channel, HubTrust trust, CredentialStore store, boolean keepCa) {
        this.channel = channel;
        this.trust = trust;
        this.store = store;
        this.keepCa = keepCa;
    }

    /**
     * Opens the channel (lazily: nothing is sent until the first call).
     *
     * @throws IOException with a message for the user when there is no way to verify the hub
     */
    static HubLink open(NodeAgentConfig config, CredentialStore store, Executor serial) throws IOException {
        return open(config, store, serial, null, false);
    }

    /**
     * Opens the channel, presenting the node's certificate when it has one. {@code afterJoin}: the
     * hub's trust bundle has just been kept from a verified join, so a pin or CA file given for the
     * join gives way to it.
     */
    static HubLink open(NodeAgentConfig config, CredentialStore store, Executor serial, NodeKeyMaterial identity, boolean afterJoin)
            throws IOException {
        HubVerification verification = config.verification();
        if (afterJoin && (verification.kind() == HubVerification.Kind.PIN || verification.kind() == HubVerification.Kind.CA_FILE)) {
            verification = HubVerification.stored();
        }
        HubTrust trust = null;
        boolean keepCa = true;
        switch (verification.kind()) {
            case PLAINTEXT -> {
                if (!loopback(config.hub().host())) {
                    throw new IOException("--plaintext is refused for " + config.hub() + ": plaintext links are allowed only to a"
                            + " hub on this machine (loopback); drop --plaintext and pass --ca-pin");
                }
                LOG.warning("connecting to " + config.hub() + " WITHOUT TLS (--plaintext): for local tests only");
                keepCa = false;
            }
            case INSECURE -> {
                LOG.warning("NOT verifying the hub at " + config.hub() + " (--insecure-skip-hub-verification): anyone on the"
                        + " path can pose as the hub and receive the invite token; pass --ca-pin instead");
                trust = HubTrust.insecure();
                keepCa = false;
            }
            case PIN -> trust = HubTrust.pinned(verification.pin());
            case CA_FILE -> {
                try {
                    trust = HubTrust.anchors(HubTrust.readPem(verification.caFile()));
                } catch (IOException e) {
                    throw new IOException("--ca-file: " + e.getMessage(), e);
                }
            }
            case STORED -> {
                Optional<List<X509Certificate>> stored = store.loadHubCas();
                if (stored.isEmpty()) {
                    throw new IOException("no way to verify the hub at " + config.hub() + ": pass --ca-pin sha256:... (the admin"
                            + " gets it with 'meshctl ca pin'; 'meshctl invite create --join' prints the whole command), or"
                            + " --ca-file FILE. A node enrolled before the hub used TLS needs this once too.");
                }
                trust = HubTrust.anchors(stored.get());
                keepCa = false;
            }
            default -> throw new IllegalStateException("unknown verification " + verification.kind());
        }
        ChannelCredentials credentials;
        if (trust == null) {
            credentials = InsecureChannelCredentials.create();
        } else {
            TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(trust);
            if (identity != null) {
                tls.keyManager(identity.keyManagers());
            }
            credentials = tls.build();
        }
        ManagedChannel channel = Grpc.newChannelBuilderForAddress(config.hub().host(), config.hub().port(), credentials)
                .keepAliveTime(30, TimeUnit.SECONDS)
                .keepAliveTimeout(10, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(false)
                .executor(serial)
                .userAgent("meshnode/" + config.agentVersion())
                .build();
        return new HubLink(channel, trust, store, keepCa);
    }

    ManagedChannel channel() {
        return channel;
    }

    /** Why the last TLS handshake refused the hub, or empty (no refusal, or no TLS). */
    Optional<String> refusal() {
        return trust == null ? Optional.empty() : trust.lastRefusal();
    }

    /**
     * After the hub answered over a verified connection: keeps its CA in the workspace for later starts
     * (once per run; nothing to keep without verification).
     */
    void keepVerifiedCa() {
        if (!keepCa || trust == null) {
            return;
        }
        Optional<X509Certificate> ca = trust.verifiedCa();
        if (ca.isEmpty()) {
            return;
        }
        try {
            Optional<List<X509Certificate>> stored = store.loadHubCas();
            if (stored.isEmpty() || !stored.get().contains(ca.get())) {
                store.saveHubCas(List.of(ca.get()));
                LOG.info("the hub's CA (" + HubTrust.pinOf(ca.get()) + ") is kept in " + store.hubCaFile()
                        + "; later starts verify the hub with it");
            }
        } catch (IOException e) {
            LOG.warning("could not keep the hub's CA in " + store.hubCaFile() + " (" + e.getMessage()
                    + "); the next start needs --ca-pin again");
        }
    }

    private static boolean loopback(String host) {
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (!address.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
