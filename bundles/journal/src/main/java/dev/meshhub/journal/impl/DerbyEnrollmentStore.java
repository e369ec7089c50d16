package dev.meshhub.journal.impl;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentException.Reason;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;

/**
 * An {@link EnrollmentStore} kept in an embedded Derby database on disk; usable without OSGi.
 *
 * <p>Shapes are checked on the caller's thread before any storage work. Storage work runs on the
 * journal's bounded executor, one transaction per operation, and completes the returned stage from
 * there. Credentials are checked from an in-memory copy of every node, loaded when the store opens
 * and updated after each commit. Only SHA-256 hashes of secrets reach the database; logs show invite
 * and node ids, never tokens or credentials.
 *
 * <p>The store works on a {@link JournalDatabase} it shares with the task journal: one Derby
 * database, one pool of journal threads, one audit trail. {@link #close()} stops accepting work and
 * gives the store's share of the database back; the last share to go lets queued work finish
 * (bounded wait, never interrupting a thread inside JDBC), then shuts the database down cleanly.
 * Afterwards every call fails with UNAVAILABLE.
 */
public final class DerbyEnrollmentStore implements EnrollmentStore, AutoCloseable {

    /** The audit actor for admin operations (there is one admin role for now). */
    static final String ADMIN = "admin";
    static final String UNKNOWN_INVITE_MESSAGE =
            "invite token not recognised; ask an admin for a new one (meshctl invite create)";
    static final String USED_MESSAGE = "invite token was already used; invite tokens are single use";
    static final String DEADLINE_MESSAGE =
            "enrollment did not finish before its deadline; nothing was changed and the invite token is still valid";
    static final int MAX_NOTE_LENGTH = 200;
    private static final int MAX_ADDRESS_LENGTH = 256;
    private static final int MAX_ECHO_LENGTH = 100;
    private static final String DUPLICATE_KEY = "23505";

    private static final Logger LOG = LoggerFactory.getLogger(DerbyEnrollmentStore.class);

    private final JournalDatabase database;
    private final Clock clock;
    private final TokenSecrets secrets;
    private final NodeCache nodes;
    private final JournalExecutor executor;
    private final AuditTrail audit;
    private final NodeLifecycle lifecycle;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Opens (creating if missing) a journal database of its own in {@code databaseDirectory} and the
     * store on it; closing the store shuts that database down. Blocks while Derby boots.
     *
     * @param databaseDirectory the Derby database directory; must not exist, be empty, or hold a journal
     * @param clock             the time source for expiry, deadlines and records
     * @param dbThreads         number of journal threads, at least 1
     * @param queueCapacity     how much work may wait for a journal thread, at least 1
     * @throws IllegalArgumentException if an argument is out of range
     * @throws IllegalStateException    if the database cannot be opened, in particular when another
     *                                  process has booted it
     * @see JournalDatabase#open(Path, Clock, int, int)
     */
    public DerbyEnrollmentStore(Path databaseDirectory, Clock clock, int dbThreads, int queueCapacity) {
        this(openOwn(databaseDirectory, clock, dbThreads, queueCapacity), clock, true);
    }

    /**
     * Opens the store on a shared journal database and loads every node into memory. The store takes
     * a share of the database and gives it back on {@link #close()}.
     *
     * @param database the journal database (open)
     * @param clock    the time source for expiry, deadlines and records
     * @throws IllegalStateException if the database is closed or the nodes cannot be read
     */
    public DerbyEnrollmentStore(JournalDatabase database, Clock clock) {
        this(database, clock, false);
    }

    private DerbyEnrollmentStore(JournalDatabase database, Clock clock, boolean ownDatabase) {
        this.database = Objects.requireNonNull(database, "database");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.secrets = new TokenSecrets(new SecureRandom());
        this.nodes = new NodeCache(secrets.decoy());
        this.executor = database.executor();
        this.audit = database.audit();
        this.lifecycle = new NodeLifecycle(database, nodes, clock);
        if (!ownDatabase) {
            database.retain();
        }
        // From here on the store holds a share: the opener's (its own database) or the one just taken.
        boolean loaded = false;
        try {
            database.inTransaction(connection -> {
                lifecycle.loadNodes(connection);
                return null;
            });
            loaded = true;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the nodes of the journal database in " + database.directory()
                    + ": SQLState " + e.getSQLState() + " (" + e.getMessage() + ")", e);
        } finally {
            if (!loaded) {
                closed.set(true);
                database.release();
            }
        }
        LOG.info("enrollment store open with {} node(s)", nodes.size());
    }

    /** A database the store will own: the opener's share passes to the store. */
    private static JournalDatabase openOwn(Path databaseDirectory, Clock clock, int dbThreads, int queueCapacity) {
        Objects.requireNonNull(clock, "clock");
        return JournalDatabase.open(databaseDirectory, clock, dbThreads, queueCapacity);
    }

    /** The absolute database directory. */
    public Path databaseDirectory() {
        return database.directory();
    }

    @Override
    public CompletionStage<IssuedInvite> createInvite(Duration ttl, String note) {
        if (closed.get()) {
            return stopped();
        }
        Duration effectiveTtl = ttl == null ? DEFAULT_INVITE_TTL : ttl;
        if (effectiveTtl.isNegative() || effectiveTtl.isZero() || effectiveTtl.compareTo(MAX_INVITE_TTL) > 0) {
            return JournalExecutor.failed(Reason.MALFORMED, "invite ttl must be more than 0 and at most "
                    + MAX_INVITE_TTL + " (" + MAX_INVITE_TTL.toHours() + " hours); got " + effectiveTtl
                    + " (default " + DEFAULT_INVITE_TTL + ")");
        }
        String cleanNote = truncate(note == null ? "" : note, MAX_NOTE_LENGTH);
        return executor.submit("invite.create", () -> createInviteNow(effectiveTtl, cleanNote));
    }

    @Override
    public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address,
                                              Instant deadline) {
        return enroll(inviteToken, requestedName, address, deadline, null);
    }

    @Override
    public CompletionStage<Enrollment> enroll(String inviteToken, String requestedName, String address,
                                              Instant deadline, String requestId) {
        if (requestId != null && !requestId.matches("[0-9a-f]{64}")) {
            return JournalExecutor.failed(Reason.MALFORMED, "an enrollment request id is 64 lowercase hex characters");
        }
        if (closed.get()) {
            return stopped();
        }
        Optional<InviteToken> token = InviteToken.parse(inviteToken);
        if (token.isEmpty()) {
            LOG.warn("enrollment refused: malformed invite token ({} characters)",
                    inviteToken == null ? "null" : inviteToken.length());
            return JournalExecutor.failed(Reason.MALFORMED, InviteToken.MALFORMED_MESSAGE);
        }
        if (!NodeNames.wantsGenerated(requestedName) && !NodeNames.isAcceptable(requestedName)) {
            LOG.warn("enrollment with invite {} refused: malformed node name ({} characters)",
                    token.get().inviteId(), requestedName.length());
            return JournalExecutor.failed(Reason.MALFORMED, NodeNames.MALFORMED_MESSAGE);
        }
        String from = printable(address, MAX_ADDRESS_LENGTH);
        return executor.submit("node.enroll", () -> enrollNow(token.get(), requestedName, from, deadline, requestId));
    }

    @Override
    public Optional<EnrolledNode> authenticate(String credential) {
        ensureOpen();
        return NodeCredential.parse(credential).flatMap(nodes::authenticate);
    }

    @Override
    public List<EnrolledNode> nodes() {
        ensureOpen();
        return nodes.all();
    }

    @Override
    public Optional<EnrolledNode> find(String idOrName) {
        ensureOpen();
        return idOrName == null ? Optional.empty() : nodes.find(idOrName);
    }

    @Override
    public CompletionStage<EnrolledNode> revokeNode(String idOrName) {
        if (closed.get()) {
            return stopped();
        }
        Optional<EnrolledNode> known = idOrName == null ? Optional.empty() : nodes.find(idOrName);
        if (known.isEmpty()) {
            return JournalExecutor.failed(Reason.UNKNOWN,
                    "no node with id or name '" + printable(idOrName, MAX_ECHO_LENGTH) + "'");
        }
        String nodeId = known.get().nodeId();
        return executor.submit("node.revoke", () -> lifecycle.revoke(nodeId));
    }

    @Override
    public CompletionStage<EnrolledNode> removeNode(String idOrName) {
        if (closed.get()) {
            return stopped();
        }
        Optional<EnrolledNode> known = idOrName == null ? Optional.empty() : nodes.find(idOrName);
        if (known.isEmpty()) {
            return JournalExecutor.failed(Reason.UNKNOWN, "no node with id or name '" + printable(idOrName, MAX_ECHO_LENGTH) + "'");
        }
        EnrolledNode node = known.get();
        return executor.submit("node.remove", () -> lifecycle.remove(node));
    }

    @Override
    public CompletionStage<Void> retireCredential(String nodeId) {
        if (closed.get()) {
            return stopped();
        }
        if (nodeId == null || !nodes.hasCredential(nodeId)) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }
        return executor.submit("node.retire-credential", () -> {
            lifecycle.retireCredential(nodeId);
            return null;
        });
    }

    /**
     * Stops the store: refuses new work and gives its share of the database back. If that was the
     * last share, queued work finishes (at most 10 s, never interrupted) and the Derby database shuts
     * down. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info("enrollment store closing");
        database.release();
    }

    // ---- storage work, on journal threads ----

    private IssuedInvite createInviteNow(Duration ttl, String note) throws SQLException {
        Instant now = now();
        Instant expiresAt = now.plus(ttl);
        InviteToken token = inTransaction(connection -> {
            InviteToken fresh = InviteTable.insert(connection, secrets, note, now, expiresAt);
            audit(connection, now, "invite.create", fresh.inviteId(),
                    "expires " + expiresAt + (note.isEmpty() ? "" : "; note: " + note));
            return fresh;
        });
        LOG.info("invite {} created; expires at {}", token.inviteId(), expiresAt);
        return new IssuedInvite(token.inviteId(), token.text(), expiresAt);
    }

    private Enrollment enrollNow(InviteToken token, String requestedName, String address, Instant deadline, String requestId)
            throws SQLException {
        Instant started = clock.instant();
        try {
            if (deadline != null && !started.isBefore(deadline)) {
                throw new EnrollmentException(Reason.DEADLINE, DEADLINE_MESSAGE);
            }
            Instant now = started.truncatedTo(ChronoUnit.MILLIS);
            String nodeId = NodeCredential.newNodeId(secrets);
            NodeCredential credential = NodeCredential.issue(nodeId, secrets);
            byte[] credentialHash = TokenSecrets.sha256(credential.secret());
            EnrolledNode[] replayed = {null};
            EnrolledNode node = inTransaction(connection -> {
                String earlier = InviteTable.spend(connection, secrets, token, nodeId, now, requestId);
                if (earlier != null) {
                    EnrolledNode again = NodeLifecycle.selectNode(connection, earlier);
                    if (again == null || again.revoked()) {
                        throw new EnrollmentException(Reason.USED, USED_MESSAGE);
                    }
                    audit(connection, now, "node.enroll.replayed", earlier, "invite=" + token.inviteId() + " from=" + address);
                    replayed[0] = again;
                    return again;
                }
                String name = NodeNames.choose(connection, requestedName, secrets);
                insertNode(connection, nodeId, name, credentialHash, now, address);
                audit(connection, now, "node.enroll", nodeId,
                        "name=" + name + " invite=" + token.inviteId() + " from=" + address);
                if (deadline != null && !clock.instant().isBefore(deadline)) {
                    throw new EnrollmentException(Reason.DEADLINE, DEADLINE_MESSAGE);
                }
                return new EnrolledNode(nodeId, name, now, false);
            });
            if (replayed[0] != null) {
                LOG.info("node {} '{}': its enrollment with invite {} answered again (same request, from {}): the first answer"
                        + " was lost", node.nodeId(), node.name(), token.inviteId(), address);
                return new Enrollment(node, "");
            }
            nodes.put(node, credentialHash);
            LOG.info("node {} '{}' enrolled from {} with invite {}", nodeId, node.name(), address, token.inviteId());
            return new Enrollment(node, credential.text());
        } catch (EnrollmentException e) {
            LOG.warn("enrollment with invite {} refused: {}", token.inviteId(), e.reason());
            throw e;
        }
    }

    private void insertNode(Connection connection, String nodeId, String name, byte[] credentialHash,
                            Instant now, String address) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO NODES"
                + " (node_id, name, credential_hash, enrolled_at, enrolled_from) VALUES (?, ?, ?, ?, ?)")) {
            insert.setString(1, nodeId);
            insert.setString(2, name);
            insert.setString(3, TokenSecrets.toHex(credentialHash));
            JournalTime.set(insert, 4, now);
            insert.setString(5, address);
            insert.executeUpdate();
        } catch (SQLException e) {
            // Another enrollment took the name between our check and this insert.
            String holder = DUPLICATE_KEY.equals(e.getSQLState()) ? NodeNames.holderOf(connection, name) : null;
            if (holder != null) {
                throw NodeNames.taken(name, holder);
            }
            throw e;
        }
    }

    // ---- SQL helpers ----

    private <T> T inTransaction(JournalDatabase.Transaction<T> work) throws SQLException {
        return database.inTransaction(work);
    }

    private void audit(Connection connection, Instant at, String action, String subject, String detail)
            throws SQLException {
        audit.insert(connection, at, ADMIN, action, subject, detail);
    }

    // ---- small things ----

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new EnrollmentException(Reason.UNAVAILABLE, JournalExecutor.STOPPED_MESSAGE);
        }
    }

    private static <T> CompletionStage<T> stopped() {
        return JournalExecutor.failed(Reason.UNAVAILABLE, JournalExecutor.STOPPED_MESSAGE);
    }

    private static String truncate(String text, int max) {
        return BoundedText.truncate(text, max);
    }

    private static String printable(String text, int max) {
        return BoundedText.printable(text, max);
    }
}
