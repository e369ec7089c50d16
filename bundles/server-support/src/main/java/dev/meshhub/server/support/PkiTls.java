package dev.meshhub.server.support;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedKeyManager;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.pki.ServerIdentity;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;

/**
 * TLS for the hub's gRPC ports with the certificate of the hub's PKI: the JDK's TLS stack (no
 * native library), the protocols given, and the certificate read from {@link HubPki} at every
 * handshake, so a renewed certificate serves the next connection without touching the listener or
 * the connections already open. While the PKI is away, new handshakes fail and open connections
 * carry on.
 */
public final class PkiTls {

    private PkiTls() {
    }

    /**
     * A server TLS context.
     *
     * @param clientTrust when not null, client certificates are requested (not required) and judged by it
     */
    public static SslContext serverContext(Supplier<HubPki> pki, List<String> protocols, TrustManager clientTrust) throws SSLException {
        SslContextBuilder builder = GrpcSslContexts.configure(SslContextBuilder.forServer(new CurrentIdentity(pki)), SslProvider.JDK)
                .protocols(protocols);
        if (clientTrust != null) {
            builder.clientAuth(ClientAuth.OPTIONAL).trustManager(clientTrust);
        } else {
            builder.clientAuth(ClientAuth.NONE);
        }
        return builder.build();
    }

    /**
     * Hands the TLS stack the PKI's current key and chain. The alias names one identity (by its
     * serial), so a renewal between the stack's calls can never pair one certificate with another
     * key.
     */
    public static final class CurrentIdentity extends X509ExtendedKeyManager {

        private static final Logger LOG = LoggerFactory.getLogger(CurrentIdentity.class);
        private static final int KEPT = 4;

        private final Supplier<HubPki> pki;
        private final Map<String, ServerIdentity> byAlias = new LinkedHashMap<>(8, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, ServerIdentity> eldest) {
                return size() > KEPT;
            }
        };
        private volatile boolean warnedMissing;

        public CurrentIdentity(Supplier<HubPki> pki) {
            this.pki = pki;
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return chooseServerAlias(keyType, issuers, null);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            HubPki current = pki.get();
            if (current == null) {
                if (!warnedMissing) {
                    warnedMissing = true;
                    LOG.warn("a node connected while the hub's PKI is unavailable: the handshake fails until it is back"
                            + " (connected nodes are not affected; see the PKI's error in this log)");
                }
                return null;
            }
            warnedMissing = false;
            ServerIdentity identity = current.serverIdentity();
            if (!matches(keyType, identity.key())) {
                return null;
            }
            String alias = "hub-" + identity.certificate().getSerialNumber().toString(16);
            synchronized (byAlias) {
                byAlias.putIfAbsent(alias, identity);
            }
            return alias;
        }

        private static boolean matches(String keyType, PrivateKey key) {
            String algorithm = key.getAlgorithm();
            boolean ec = "EC".equals(algorithm) || "ECDSA".equals(algorithm);
            return keyType == null || (ec ? keyType.startsWith("EC") : keyType.equalsIgnoreCase(algorithm));
        }

        private ServerIdentity identity(String alias) {
            synchronized (byAlias) {
                return byAlias.get(alias);
            }
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            ServerIdentity identity = identity(alias);
            return identity == null ? null : identity.chain().toArray(new X509Certificate[0]);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            ServerIdentity identity = identity(alias);
            return identity == null ? null : identity.key();
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            String alias = chooseServerAlias(keyType, issuers, null);
            return alias == null ? null : new String[] {alias};
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
        }
    }
}
