package dev.meshhub.proto.v1;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How a client of the hub decides that it talks to the right hub, before it sends anything: the
 * chain the hub presents must lead to a CA the client trusts, and its leaf must be a hub
 * certificate (extended key usage {@code serverAuth}, URI SAN {@code meshhub://hub/...}).
 *
 * <p>The CA is trusted by its <b>pin</b> ({@code sha256:} and the lowercase hex SHA-256 of its
 * DER SubjectPublicKeyInfo, as kubeadm's {@code --discovery-token-ca-cert-hash}: the hub sends its
 * CA in the chain, and the client accepts it only if it hashes to the pin) or by a CA file. Host
 * names are not checked: only the hub holds its CA's key, and node certificates from the same CA
 * carry neither {@code serverAuth} nor a hub URI, so no node can pose as the hub.
 *
 * <p>A refusal fails the TLS handshake, so no gRPC call (and no token) is ever sent to a hub that
 * is not the one pinned; {@link #lastRefusal()} says why, for the user.
 */
public final class HubTrust extends X509ExtendedTrustManager {

    /** URI SAN prefix of a hub's server certificate. */
    public static final String HUB_URI_PREFIX = "meshhub://hub/";
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final int URI_NAME = 6;
    private static final Pattern PIN = Pattern.compile("sha256:[0-9a-f]{64}");

    private enum Mode { PIN, ANCHORS, INSECURE }

    private final Mode mode;
    private final String pin;
    private final List<X509Certificate> anchors;
    private volatile X509Certificate verifiedCa;
    private volatile String lastRefusal;

    private HubTrust(Mode mode, String pin, List<X509Certificate> anchors) {
        this.mode = mode;
        this.pin = pin;
        this.anchors = List.copyOf(anchors);
    }

    /** Trusts the hub whose CA's public key hashes to {@code pin} ({@code sha256:<64 hex>}). */
    public static HubTrust pinned(String pin) {
        return new HubTrust(Mode.PIN, parsePin(pin), List.of());
    }

    /** Trusts a hub whose chain leads to one of these CAs (a CA file, or what an earlier join kept). */
    public static HubTrust anchors(Collection<X509Certificate> cas) {
        if (cas.isEmpty()) {
            throw new IllegalArgumentException("no CA certificate to trust");
        }
        return new HubTrust(Mode.ANCHORS, null, new ArrayList<>(cas));
    }

    /** Trusts any hub. Only for an explicitly named insecure option: anyone on the path can pose as the hub. */
    public static HubTrust insecure() {
        return new HubTrust(Mode.INSECURE, null, List.of());
    }

    /**
     * Checks a pin's shape and returns it in canonical (lowercase) form.
     *
     * @throws IllegalArgumentException saying what a pin looks like
     */
    public static String parsePin(String pin) {
        String canonical = pin == null ? "" : pin.strip().toLowerCase(Locale.ROOT);
        if (!PIN.matcher(canonical).matches()) {
            throw new IllegalArgumentException("a CA pin is 'sha256:' and 64 hex digits (meshctl ca pin prints it); got '"
                    + (pin == null ? "" : pin.strip()) + "'");
        }
        return canonical;
    }

    /** The pin of a CA certificate: {@code sha256:} and the hex SHA-256 of its SubjectPublicKeyInfo. */
    public static String pinOf(X509Certificate ca) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ca.getPublicKey().getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * Reads every certificate of a PEM file.
     *
     * @throws IOException naming the file when it cannot be read or holds no certificate
     */
    public static List<X509Certificate> readPem(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            List<X509Certificate> certificates = new ArrayList<>();
            for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes))) {
                certificates.add((X509Certificate) certificate);
            }
            if (certificates.isEmpty()) {
                throw new IOException(file + " holds no PEM certificate");
            }
            return certificates;
        } catch (CertificateException e) {
            throw new IOException(file + " is not a PEM certificate file: " + e.getMessage(), e);
        }
    }

    /** Certificates as PEM text. */
    public static String toPem(Collection<X509Certificate> certificates) {
        StringBuilder pem = new StringBuilder();
        Base64.Encoder encoder = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        for (X509Certificate certificate : certificates) {
            try {
                pem.append("-----BEGIN CERTIFICATE-----\n").append(encoder.encodeToString(certificate.getEncoded()))
                        .append("\n-----END CERTIFICATE-----\n");
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException("a certificate that cannot be encoded", e);
            }
        }
        return pem.toString();
    }

    /** The CA that vouched for the hub in the last accepted handshake: what a joining node keeps. */
    public Optional<X509Certificate> verifiedCa() {
        return Optional.ofNullable(verifiedCa);
    }

    /** Why the last handshake was refused (for the user), or empty. */
    public Optional<String> lastRefusal() {
        return Optional.ofNullable(lastRefusal);
    }

    /** Whether this trusts any hub at all (the insecure mode). */
    public boolean isInsecure() {
        return mode == Mode.INSECURE;
    }

    /**
     * Checks a chain the hub presented.
     *
     * @throws CertificateException saying why this is not the hub the client trusts
     */
    public void verify(X509Certificate[] chain) throws CertificateException {
        try {
            verifiedCa = check(chain);
            lastRefusal = null;
        } catch (CertificateException e) {
            lastRefusal = e.getMessage();
            throw e;
        }
    }

    private X509Certificate check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the hub presented no certificate");
        }
        if (mode == Mode.INSECURE) {
            return chain[chain.length - 1];
        }
        X509Certificate anchor = null;
        CertificateException invalid = null;
        for (Anchored candidate : anchored(chain)) {
            if (candidate.path().isEmpty()) {
                invalid = new CertificateException("the hub presented only its CA, not a server certificate");
                continue;
            }
            try {
                PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(candidate.anchor(), null)));
                parameters.setRevocationEnabled(false);
                CertPathValidator.getInstance("PKIX").validate(
                        CertificateFactory.getInstance("X.509").generateCertPath(candidate.path()), parameters);
                anchor = candidate.anchor();
                break;
            } catch (GeneralSecurityException e) {
                invalid = new CertificateException(mode == Mode.PIN
                        ? "the hub's certificate does not validate against its CA " + pinOf(candidate.anchor()) + ": " + e.getMessage()
                        : "the hub's certificate is not issued by a trusted CA (" + e.getMessage() + "; trusted: "
                                + pinOf(candidate.anchor()) + "): this is not the hub this node joined", e);
            }
        }
        if (anchor == null) {
            throw invalid;
        }
        X509Certificate leaf = chain[0];
        List<String> usages = leaf.getExtendedKeyUsage();
        if (usages == null || !usages.contains(SERVER_AUTH)) {
            throw new CertificateException("the certificate presented is not a server certificate (no serverAuth usage):"
                    + " a node's certificate, not the hub's");
        }
        if (hubUri(leaf).isEmpty()) {
            throw new CertificateException("the certificate presented names no hub (" + HUB_URI_PREFIX + "...)");
        }
        return anchor;
    }

    /** The CA a chain is checked against, and the part of the chain below it. */
    private record Anchored(X509Certificate anchor, List<X509Certificate> path) {
    }

    private List<Anchored> anchored(X509Certificate[] chain) throws CertificateException {
        if (mode == Mode.PIN) {
            Set<String> seen = new LinkedHashSet<>();
            for (int i = 1; i < chain.length; i++) {
                String candidate = pinOf(chain[i]);
                if (candidate.equals(pin)) {
                    return List.of(new Anchored(chain[i], List.of(chain).subList(0, i)));
                }
                seen.add(candidate);
            }
            throw new CertificateException("the hub's CA pin is " + (seen.isEmpty() ? "unknown (it sent no CA)" : String.join(" or ", seen))
                    + ", but --ca-pin says " + pin + ": this is not the hub you were given; the invite token was not sent");
        }
        List<Anchored> candidates = new ArrayList<>();
        for (int i = 0; i < chain.length; i++) {
            for (X509Certificate trusted : anchors) {
                if (trusted.equals(chain[i])) {
                    candidates.add(new Anchored(trusted, List.of(chain).subList(0, i)));
                } else if (trusted.getSubjectX500Principal().equals(chain[i].getIssuerX500Principal())) {
                    // PKIX checks that this trusted CA really signed it (two CAs may share a name).
                    candidates.add(new Anchored(trusted, List.of(chain).subList(0, i + 1)));
                }
            }
        }
        if (!candidates.isEmpty()) {
            return candidates;
        }
        Set<String> pins = new LinkedHashSet<>();
        for (X509Certificate trusted : anchors) {
            pins.add(pinOf(trusted));
        }
        throw new CertificateException("the hub's certificate is not issued by a trusted CA (trusted: " + String.join(", ", pins)
                + "): this is not the hub this node joined");
    }

    /** The hub URI a certificate names, if any. */
    public static Optional<String> hubUri(X509Certificate certificate) {
        try {
            Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> name : names) {
                    if (name.size() == 2 && Integer.valueOf(URI_NAME).equals(name.get(0))
                            && String.valueOf(name.get(1)).startsWith(HUB_URI_PREFIX)) {
                        return Optional.of(String.valueOf(name.get(1)));
                    }
                }
            }
            return Optional.empty();
        } catch (CertificateException e) {
            return Optional.empty();
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        verify(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        verify(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        verify(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("HubTrust verifies hubs, not clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("HubTrust verifies hubs, not clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("HubTrust verifies hubs, not clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return anchors.toArray(new X509Certificate[0]);
    }
}
