package dev.meshhub.transport.impl;

import java.util.List;
import java.util.function.Supplier;

import javax.net.ssl.SSLException;

import dev.meshhub.api.pki.HubPki;
import dev.meshhub.server.support.PkiTls;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;

/**
 * The node port's TLS: the hub's certificate from the PKI at every handshake ({@link PkiTls}), the
 * protocols configured (TLS 1.3 unless an admin allows 1.2), and node certificates requested, not
 * required (an enrolling node has none yet), judged by {@link NodeCertificates}. Which calls need one
 * is the call layer's business (NodeAuthInterceptor).
 */
final class NodeTls {

    private NodeTls() {
    }

    static SslContext serverContext(Supplier<HubPki> pki, List<String> protocols) throws SSLException {
        return PkiTls.serverContext(pki, protocols, new NodeCertificates(pki));
    }
}
