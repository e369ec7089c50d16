package dev.meshhub.pki.impl;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import dev.meshhub.api.pki.HubPki;

/** The node id a node certificate names in its URI SAN ({@code meshhub://node/<id>}). */
final class NodeUris {

    static final Pattern NODE_ID = Pattern.compile("^[A-Za-z0-9._-]{1,64}$");

    private NodeUris() {
    }

    /** The node id of a node certificate ({@code meshhub://node/<id>}), else empty. */
    static Optional<String> nodeIdOf(X509Certificate certificate) {
        Collection<List<?>> names;
        try {
            names = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
        if (names == null) {
            return Optional.empty();
        }
        List<String> ids = new ArrayList<>();
        for (List<?> name : names) {
            if (Integer.valueOf(6).equals(name.get(0)) && name.get(1) instanceof String uri && uri.startsWith(HubPki.NODE_URI_PREFIX)) {
                ids.add(uri.substring(HubPki.NODE_URI_PREFIX.length()));
            }
        }
        return ids.size() == 1 && NODE_ID.matcher(ids.get(0)).matches() ? Optional.of(ids.get(0)) : Optional.empty();
    }
}
