package dev.meshhub.journal.impl;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import dev.meshhub.api.enrollment.EnrolledNode;

/**
 * Every node and its credential hash, in memory, so credentials are checked without touching the
 * database. Loaded in full when the store opens and updated only after a commit; node ids and names
 * never change and nodes are never removed, so the two maps cannot disagree for long.
 */
final class NodeCache {

    private record Entry(EnrolledNode node, byte[] credentialHash) {
    }

    private final ConcurrentHashMap<String, Entry> byId = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, String> idByName = new ConcurrentHashMap<>();
    private final byte[] decoy;

    NodeCache(byte[] decoy) {
        this.decoy = decoy;
    }

    void put(EnrolledNode node, byte[] credentialHash) {
        byId.put(node.nodeId(), new Entry(node, credentialHash));
        idByName.put(node.name().toLowerCase(java.util.Locale.ROOT), node.nodeId());
    }

    /** Replaces the cached node (its revoked flag), keeping its credential hash. */
    void update(EnrolledNode node) {
        byId.computeIfPresent(node.nodeId(), (id, entry) -> new Entry(node, entry.credentialHash()));
    }

    /** Forgets a removed node. */
    void remove(EnrolledNode node) {
        byId.remove(node.nodeId());
        idByName.remove(node.name().toLowerCase(java.util.Locale.ROOT), node.nodeId());
    }

    /** Forgets the node's credential hash: from now on no credential authenticates it. */
    void retireCredential(String nodeId) {
        byId.computeIfPresent(nodeId, (id, entry) -> new Entry(entry.node(), null));
    }

    /** Whether the node still has a bearer credential that authenticates it. */
    boolean hasCredential(String nodeId) {
        Entry entry = byId.get(nodeId);
        return entry != null && entry.credentialHash() != null;
    }

    /** The node, if the credential's secret matches (compared in constant time) and the node is not revoked. */
    Optional<EnrolledNode> authenticate(NodeCredential credential) {
        Entry entry = byId.get(credential.nodeId());
        byte[] stored = entry == null || entry.credentialHash() == null ? decoy : entry.credentialHash();
        boolean matches = TokenSecrets.matches(TokenSecrets.sha256(credential.secret()), stored);
        if (entry == null || entry.credentialHash() == null || !matches || entry.node().revoked()) {
            return Optional.empty();
        }
        return Optional.of(entry.node());
    }

    /** By id first, then by name. */
    Optional<EnrolledNode> find(String idOrName) {
        Entry entry = byId.get(idOrName);
        if (entry == null) {
            String id = idByName.get(idOrName.toLowerCase(java.util.Locale.ROOT));
            entry = id == null ? null : byId.get(id);
        }
        return Optional.ofNullable(entry).map(Entry::node);
    }

    /** Every node, sorted by name. */
    List<EnrolledNode> all() {
        return byId.values().stream().map(Entry::node).sorted(Comparator.comparing(EnrolledNode::name)).toList();
    }

    int size() {
        return byId.size();
    }
}
