package dev.meshhub.transport.impl;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

import dev.meshhub.api.pki.HubPki;

/**
 * Which client certificates the node port's TLS lets through: chains that lead to a CA of the hub's
 * trust bundle, whose leaf is a node certificate (clientAuth, a node URI), of at most a few
 * certificates. Anything else fails the handshake. Expiry is deliberately not judged here but at the
 * call layer, so a node with an expired certificate is told so in a status rather than by a broken
 * handshake; revocation is judged there too (from memory).
 */
final class NodeCertificates extends X509ExtendedTrustManager {

    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final int MAX_CHAIN = 4;

    private final Supplier<HubPki> pki;

    NodeCertificates(Supplier<HubPki> pki) {
        this.pki = pki;
    }

    void check(X509Certificate[] chain) throws CertificateException {
        HubPki current = pki.get();
        if (current == null) {
            throw new CertificateException("the hub's PKI is unavailable; retry shortly");
        }
        if (chain == null || chain.length == 0 || chain.length > MAX_CHAIN) {
            throw new CertificateException("a node presents its certificate and at most " + (MAX_CHAIN - 1) + " CA certificates");
        }
        X509Certificate leaf = chain[0];
        List<String> usages = leaf.getExtendedKeyUsage();
        if (usages == null || !usages.contains(CLIENT_AUTH) || current.nodeIdOf(leaf).isEmpty()) {
            throw new CertificateException("not a node certificate of this hub (clientAuth and a " + HubPki.NODE_URI_PREFIX
                    + "<id> name are needed)");
        }
        Set<TrustAnchor> anchors = new HashSet<>();
        for (X509Certificate ca : current.trustBundle()) {
            anchors.add(new TrustAnchor(ca, null));
        }
        List<X509Certificate> path = new ArrayList<>();
        for (X509Certificate certificate : chain) {
            if (current.trustBundle().contains(certificate)) {
                break;
            }
            path.add(certificate);
        }
        try {
            PKIXParameters parameters = new PKIXParameters(anchors);
            parameters.setRevocationEnabled(false);
            // Validate as of a moment the leaf was valid: its expiry is reported by the call layer.
            Date now = new Date();
            Date notAfter = leaf.getNotAfter();
            parameters.setDate(now.after(notAfter) ? new Date(notAfter.getTime() - 1000) : now);
            CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path), parameters);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new CertificateException("the node certificate is not issued by this hub's CA: " + e.getMessage(), e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("the node port does not verify servers");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("the node port does not verify servers");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the node port does not verify servers");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        HubPki current = pki.get();
        return current == null ? new X509Certificate[0] : current.trustBundle().toArray(new X509Certificate[0]);
    }
}
