package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static dev.meshhub.journal.impl.JournalFixture.failedAlready;
import static dev.meshhub.journal.impl.JournalFixture.failure;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentException.Reason;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;

public class DerbyEnrollmentStoreTest {

    private static final Pattern INVITE_TOKEN = Pattern.compile("^mhi\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}$");
    private static final Pattern CREDENTIAL = Pattern.compile("^mhc\\.n-[0-9a-f]{12}\\.[A-Za-z0-9_-]{43}$");
    private static final Pattern NODE_ID = Pattern.compile("^n-[0-9a-f]{12}$");
    private static final Pattern GENERATED_NAME = Pattern.compile("^node-[0-9a-f]{6}$");

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void enrolledNodeAuthenticatesWithItsCredential() {
        DerbyEnrollmentStore store = journal.open();
        IssuedInvite invite = journal.invite(store);

        Enrollment enrollment = await(store.enroll(invite.token(), "web-1", "10.0.0.7:51234", journal.later()));

        EnrolledNode node = enrollment.node();
        assertEquals("web-1", node.name());
        assertFalse(node.revoked());
        assertEquals(JournalFixture.START, node.enrolledAt());
        assertEquals(node, store.authenticate(enrollment.credential()).orElseThrow());
        assertEquals(List.of(node), store.nodes());
        assertEquals(node, store.find(node.nodeId()).orElseThrow());
        assertEquals(node, store.find("web-1").orElseThrow());
        assertTrue(store.find("web-2").isEmpty());

        String credential = enrollment.credential();
        String otherSecret = credential.substring(0, credential.length() - 43) + "A".repeat(43);
        assertTrue(store.authenticate(otherSecret).isEmpty());
        assertTrue(store.authenticate(credential + "x").isEmpty());
        assertTrue(store.authenticate(null).isEmpty());
        assertTrue(store.authenticate(invite.token()).isEmpty());
        assertEquals(1, journal.count("SELECT COUNT(*) FROM INVITES WHERE invite_id = ? AND used_by_node = ?",
                invite.inviteId(), node.nodeId()));
    }

    @Test
    public void issuedTokensAndIdsHaveTheAgreedShapes() {
        DerbyEnrollmentStore store = journal.open();
        IssuedInvite invite = journal.invite(store);
        assertTrue(invite.token(), INVITE_TOKEN.matcher(invite.token()).matches());
        assertTrue(invite.token().startsWith("mhi." + invite.inviteId() + "."));
        assertEquals(JournalFixture.START.plus(EnrollmentStore.DEFAULT_INVITE_TTL), invite.expiresAt());

        Enrollment enrollment = await(store.enroll(invite.token(), null, null, journal.later()));
        assertTrue(enrollment.credential(), CREDENTIAL.matcher(enrollment.credential()).matches());
        assertTrue(enrollment.node().nodeId(), NODE_ID.matcher(enrollment.node().nodeId()).matches());
        assertTrue(enrollment.credential().startsWith("mhc." + enrollment.node().nodeId() + "."));
        assertTrue(enrollment.node().name(), GENERATED_NAME.matcher(enrollment.node().name()).matches());
        assertFalse(enrollment.toString().contains(enrollment.credential()));
    }

    @Test
    public void emptyNameGetsAGeneratedOne() {
        DerbyEnrollmentStore store = journal.open();
        Enrollment enrollment = await(store.enroll(journal.invite(store).token(), "", "peer", journal.later()));
        assertTrue(enrollment.node().name(), GENERATED_NAME.matcher(enrollment.node().name()).matches());
    }

    @Test
    public void spentInviteIsRefusedAndOnlyOneNodeExists() {
        DerbyEnrollmentStore store = journal.open();
        IssuedInvite invite = journal.invite(store);
        await(store.enroll(invite.token(), "first", "peer", journal.later()));

        EnrollmentException refused = failure(store.enroll(invite.token(), "second", "peer", journal.later()),
                Reason.USED);

        assertEquals("invite token was already used; invite tokens are single use", refused.getMessage());
        assertEquals(1, store.nodes().size());
        assertEquals(1, journal.count("SELECT COUNT(*) FROM NODES"));
    }

    @Test
    public void expiredInviteIsRefusedThoughItsRowIsStillThere() {
        DerbyEnrollmentStore store = journal.open();
        IssuedInvite invite = await(store.createInvite(Duration.ofMinutes(10), "short"));
        journal.clock.advance(Duration.ofMinutes(10));

        EnrollmentException refused = failure(store.enroll(invite.token(), "late", "peer", null), Reason.EXPIRED);

        assertEquals("invite token expired at 2030-01-01T00:10:00Z; ask an admin for a new one", refused.getMessage());
        assertEquals(1, journal.count("SELECT COUNT(*) FROM INVITES WHERE invite_id = ? AND used_at IS NULL",
                invite.inviteId()));
        assertTrue(store.nodes().isEmpty());
    }

    @Test
    public void wrongSecretLooksExactlyLikeAnUnknownInvite() {
        DerbyEnrollmentStore store = journal.open();
        IssuedInvite invite = journal.invite(store);
        String wrongSecret = "mhi." + invite.inviteId() + "." + "B".repeat(43);
        String unknownId = "mhi.0123456789abcdef." + invite.token().substring(21);

        EnrollmentException wrong = failure(store.enroll(wrongSecret, "x", "peer", journal.later()));
        EnrollmentException unknown = failure(store.enroll(unknownId, "x", "peer", journal.later()));

        assertEquals(Reason.UNKNOWN, wrong.reason());
        assertEquals(wrong.reason(), unknown.reason());
        assertEquals(wrong.getMessage(), unknown.getMessage());
        assertEquals("invite token not recognised; ask an admin for a new one (meshctl invite create)",
                wrong.getMessage());
        // The real token still works.
        await(store.enroll(invite.token(), "x", "peer", journal.later()));
    }

    @Test
    public void malformedInputsFailAtOnceWithoutDatabaseWork() throws InterruptedException {
        DerbyEnrollmentStore store = journal.open(1, 1);
        IssuedInvite invite = journal.invite(store);
        CountDownLatch release = JournalFixture.occupyJournalThreads(store, 1);
        CompletionStage<Enrollment> queued;
        try {
            // The only journal thread is held and the one queue slot is taken: anything that reached
            // the executor would now wait, or fail as overloaded.
            queued = store.enroll("mhi.0123456789abcdef." + "C".repeat(43), "queued", "peer", null);
            assertFalse(queued.toCompletableFuture().isDone());
            failedAlready(store.createInvite(null, "one too many"), Reason.UNAVAILABLE);

            String token = invite.token();
            String tenKilobytes = "mhi." + "a".repeat(10 * 1024);
            List<String> badTokens = List.of("", "mhi.", token.toUpperCase(), token + "=", token.substring(1),
                    token.replace('.', '-'), token.substring(0, 30) + '\0' + token.substring(31),
                    "\0".repeat(token.length()), tenKilobytes, "mhc.n-0123456789ab." + "D".repeat(43),
                    "mhi.0123456789ABCDEF." + "E".repeat(43), "mhi.0123456789abcdef." + "F".repeat(42) + "+");
            for (String bad : badTokens) {
                EnrollmentException refused = failedAlready(store.enroll(bad, "ok", "peer", null), Reason.MALFORMED);
                assertEquals(InviteToken.MALFORMED_MESSAGE, refused.getMessage());
            }
            failedAlready(store.enroll(null, "ok", "peer", null), Reason.MALFORMED);

            List<String> badNames = List.of("-lead", ".lead", "_lead", "has space", "a/b", "../x", "x".repeat(64),
                    "nul\0", "ünï", "tab\t", "n-0123456789ab", "x".repeat(10 * 1024));
            for (String bad : badNames) {
                EnrollmentException refused = failedAlready(store.enroll(token, bad, "peer", null), Reason.MALFORMED);
                assertEquals(NodeNames.MALFORMED_MESSAGE, refused.getMessage());
            }
            assertFalse(queued.toCompletableFuture().isDone());
        } finally {
            release.countDown();
        }
        assertEquals(Reason.UNKNOWN, failure(queued).reason());
        // Nothing was spent: the token still enrolls, with the longest allowed name.
        String longest = "a".repeat(NodeNames.MAX_LENGTH);
        assertEquals(longest, await(store.enroll(invite.token(), longest, "peer", null)).node().name());
    }

    @Test
    public void fullQueueRefusesWorkAsOverloaded() throws InterruptedException {
        DerbyEnrollmentStore store = journal.open(1, 1);
        CountDownLatch release = JournalFixture.occupyJournalThreads(store, 1);
        CompletionStage<IssuedInvite> queued;
        try {
            queued = store.createInvite(null, "queued");
            EnrollmentException refused = failedAlready(store.createInvite(null, "refused"), Reason.UNAVAILABLE);
            assertEquals("journal is overloaded; retry shortly", refused.getMessage());
        } finally {
            release.countDown();
        }
        await(queued);
        await(store.createInvite(null, "accepted again"));
    }

    @Test
    public void deadlinePassedBeforeTheWorkStartsLeavesTheTokenValid() {
        DerbyEnrollmentStore store = journal.open();
        IssuedInvite invite = journal.invite(store);

        EnrollmentException refused = failure(
                store.enroll(invite.token(), "slow", "peer", journal.clock.peek().minusSeconds(1)), Reason.DEADLINE);

        assertTrue(refused.getMessage(), refused.getMessage().contains("invite token is still valid"));
        assertTrue(store.nodes().isEmpty());
        assertEquals("slow", await(store.enroll(invite.token(), "slow", "peer", journal.later())).node().name());
    }

    @Test
    public void deadlinePassingDuringTheTransactionRollsItBack() {
        DerbyEnrollmentStore store = journal.open();
        IssuedInvite invite = journal.invite(store);
        Instant deadline = journal.clock.peek().plusSeconds(30);
        // The first read (when the work starts) is before the deadline; the read right before the
        // commit is a minute later.
        journal.clock.stepEachRead(Duration.ofMinutes(1));

        failure(store.enroll(invite.token(), "slow", "peer", deadline), Reason.DEADLINE);

        journal.clock.stepEachRead(Duration.ZERO);
        assertTrue(store.nodes().isEmpty());
        assertEquals(0, journal.count("SELECT COUNT(*) FROM NODES"));
        assertEquals(0, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'node.enroll'"));
        assertEquals(1, journal.count("SELECT COUNT(*) FROM INVITES WHERE used_at IS NULL AND invite_id = ?",
                invite.inviteId()));
        await(store.enroll(invite.token(), "slow", "peer", journal.later()));
    }

    @Test
    public void takenNameIsRefusedAndTheTokenStaysValid() {
        DerbyEnrollmentStore store = journal.open();
        EnrolledNode web = await(store.enroll(journal.invite(store).token(), "web", "peer", journal.later())).node();
        IssuedInvite second = journal.invite(store);

        EnrollmentException refused = failure(store.enroll(second.token(), "web", "peer", journal.later()),
                Reason.NAME_TAKEN);

        assertEquals("node name 'web' is taken by node " + web.nodeId() + "; start the node with another --name",
                refused.getMessage());
        assertEquals("web2", await(store.enroll(second.token(), "web2", "peer", journal.later())).node().name());
    }

    @Test
    public void revokedNodeStaysRevokedAcrossReopen() {
        DerbyEnrollmentStore store = journal.open();
        Enrollment enrollment = await(store.enroll(journal.invite(store).token(), "db-1", "peer", journal.later()));
        Enrollment other = await(store.enroll(journal.invite(store).token(), "db-2", "peer", journal.later()));

        EnrolledNode revoked = await(store.revokeNode("db-1"));
        assertTrue(revoked.revoked());
        assertTrue(store.authenticate(enrollment.credential()).isEmpty());
        assertTrue(store.find("db-1").orElseThrow().revoked());
        assertTrue(store.authenticate(other.credential()).isPresent());
        // Revoking again changes nothing and records nothing.
        assertTrue(await(store.revokeNode(enrollment.node().nodeId())).revoked());
        assertEquals(1, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'node.revoke'"));

        store.close();
        DerbyEnrollmentStore reopened = journal.open();
        assertTrue(reopened.authenticate(enrollment.credential()).isEmpty());
        assertTrue(reopened.find(enrollment.node().nodeId()).orElseThrow().revoked());
        assertEquals(other.node(), reopened.authenticate(other.credential()).orElseThrow());
    }

    @Test
    public void aRemovedNodeIsForgottenAndItsNameEnrollsAgain() {
        DerbyEnrollmentStore store = journal.open();
        Enrollment orphan = await(store.enroll(journal.invite(store).token(), "orphan", "peer", journal.later()));
        assertEquals(orphan.node(), await(store.removeNode("ORPHAN")));
        assertTrue(store.find(orphan.node().nodeId()).isEmpty());
        assertTrue(store.authenticate(orphan.credential()).isEmpty());
        assertEquals(1, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'node.remove'"));
        Enrollment again = await(store.enroll(journal.invite(store).token(), "orphan", "peer", journal.later()));
        assertNotEquals(orphan.node().nodeId(), again.node().nodeId());
        failure(store.removeNode("no-such-node"), Reason.UNKNOWN);
        store.close();
        assertEquals("gone after a restart too", again.node(), journal.open().find("orphan").orElseThrow());
    }

    @Test
    public void namesDifferingOnlyInCaseAreOneName() {
        DerbyEnrollmentStore store = journal.open();
        Enrollment web = await(store.enroll(journal.invite(store).token(), "web1", "peer", journal.later()));
        EnrollmentException taken = failure(store.enroll(journal.invite(store).token(), "WEB1", "peer", journal.later()),
                Reason.NAME_TAKEN);
        assertTrue(taken.getMessage(), taken.getMessage().contains("WEB1"));
        assertEquals(web.node(), store.find("Web1").orElseThrow());
    }

    @Test
    public void theSameRequestEnrollsAgainWithinTheWindowAndNothingElseDoes() {
        DerbyEnrollmentStore store = journal.open();
        String token = journal.invite(store).token();
        String request = "ab".repeat(32);
        Enrollment first = await(store.enroll(token, "lost", "peer", journal.later(), request));
        assertFalse(first.credential().isEmpty());

        // The answer never reached the node; it retries with the same token and the same request.
        Enrollment again = await(store.enroll(token, "lost", "peer", journal.later(), request));
        assertEquals("the same node, not a second one", first.node(), again.node());
        assertEquals("no new credential", "", again.credential());
        assertEquals(1, store.nodes().size());
        assertEquals(1, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'node.enroll.replayed'"));

        failure(store.enroll(token, "lost", "peer", journal.later(), "cd".repeat(32)), Reason.USED);
        failure(store.enroll(token, "lost", "peer", journal.later()), Reason.USED);
        failure(store.enroll(token, "lost", "peer", journal.later(), "not-hex"), Reason.MALFORMED);
        journal.clock.advance(dev.meshhub.api.enrollment.EnrollmentStore.REPLAY_WINDOW);
        failure(store.enroll(token, "lost", "peer", journal.later(), request), Reason.USED);

        String other = journal.invite(store).token();
        Enrollment revokedLater = await(store.enroll(other, "revoked-later", "peer", journal.later(), request));
        await(store.revokeNode(revokedLater.node().nodeId()));
        failure(store.enroll(other, "revoked-later", "peer", journal.later(), request), Reason.USED);
    }

    @Test
    public void aRetiredCredentialNeverAuthenticatesAgainEvenAfterReopen() {
        DerbyEnrollmentStore store = journal.open();
        Enrollment traded = await(store.enroll(journal.invite(store).token(), "traded", "peer", journal.later()));
        Enrollment kept = await(store.enroll(journal.invite(store).token(), "kept", "peer", journal.later()));
        assertTrue(store.authenticate(traded.credential()).isPresent());

        await(store.retireCredential(traded.node().nodeId()));
        assertTrue("a retired credential is refused at once", store.authenticate(traded.credential()).isEmpty());
        assertEquals("the node itself stays enrolled", traded.node(), store.find("traded").orElseThrow());
        assertEquals(kept.node(), store.authenticate(kept.credential()).orElseThrow());
        // Retiring again writes nothing more.
        await(store.retireCredential(traded.node().nodeId()));
        assertEquals(1, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'node.credential-retired'"));

        store.close();
        DerbyEnrollmentStore reopened = journal.open();
        assertTrue("retired for good, not just in memory", reopened.authenticate(traded.credential()).isEmpty());
        assertEquals(traded.node(), reopened.find(traded.node().nodeId()).orElseThrow());
        assertEquals(kept.node(), reopened.authenticate(kept.credential()).orElseThrow());
    }

    @Test
    public void revokingAnUnknownNodeNamesItTruncated() {
        DerbyEnrollmentStore store = journal.open();
        assertEquals("no node with id or name 'ghost'", failedAlready(store.revokeNode("ghost"), Reason.UNKNOWN)
                .getMessage());
        String longName = "g".repeat(500);
        assertEquals("no node with id or name '" + "g".repeat(100) + "'",
                failedAlready(store.revokeNode(longName), Reason.UNKNOWN).getMessage());
        failedAlready(store.revokeNode(null), Reason.UNKNOWN);
    }

    @Test
    public void reopenKeepsNodesAndTheirCredentials() {
        DerbyEnrollmentStore store = journal.open();
        List<Enrollment> enrollments = new ArrayList<>();
        for (String name : List.of("c", "a", "b")) {
            enrollments.add(await(store.enroll(journal.invite(store).token(), name, "peer", journal.later())));
        }
        List<EnrolledNode> before = store.nodes();
        assertEquals(List.of("a", "b", "c"), before.stream().map(EnrolledNode::name).toList());
        store.close();

        DerbyEnrollmentStore reopened = journal.open();
        assertEquals(before, reopened.nodes());
        for (Enrollment enrollment : enrollments) {
            assertEquals(enrollment.node(), reopened.authenticate(enrollment.credential()).orElseThrow());
        }
        // Audit ids carry on after the ones already on disk.
        journal.invite(reopened);
        assertEquals(7, journal.count("SELECT COUNT(DISTINCT id) FROM AUDIT"));
    }

    @Test
    public void closeLetsQueuedWorkFinish() {
        DerbyEnrollmentStore store = journal.open(1, 64);
        List<CompletionStage<IssuedInvite>> pending = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            pending.add(store.createInvite(null, "queued " + i));
        }
        store.close();
        for (CompletionStage<IssuedInvite> stage : pending) {
            assertNotNull(await(stage));
        }
    }

    @Test
    public void closedStoreHasNoThreadsAndRefusesEveryCall() {
        DerbyEnrollmentStore store = journal.open(3, 16);
        Enrollment enrollment = await(store.enroll(journal.invite(store).token(), "n", "peer", journal.later()));
        assertFalse(JournalFixture.journalThreads().isEmpty());

        store.close();
        store.close();

        assertEquals(List.of(), JournalFixture.journalThreads());
        String stopped = "journal is stopped";
        assertEquals(stopped, failedAlready(store.createInvite(null, ""), Reason.UNAVAILABLE).getMessage());
        assertEquals(stopped, failedAlready(store.enroll("junk", "n", "peer", null), Reason.UNAVAILABLE)
                .getMessage());
        assertEquals(stopped, failedAlready(store.revokeNode("n"), Reason.UNAVAILABLE).getMessage());
        assertUnavailable(() -> store.authenticate(enrollment.credential()));
        assertUnavailable(store::nodes);
        assertUnavailable(() -> store.find("n"));
    }

    private static void assertUnavailable(Supplier<?> call) {
        try {
            call.get();
            fail("expected UNAVAILABLE");
        } catch (EnrollmentException e) {
            assertEquals(Reason.UNAVAILABLE, e.reason());
            assertEquals("journal is stopped", e.getMessage());
        }
    }

    @Test
    public void databaseFilesHoldNoSecrets() throws IOException {
        DerbyEnrollmentStore store = journal.open();
        IssuedInvite spent = journal.invite(store);
        IssuedInvite unspent = journal.invite(store);
        Enrollment enrollment = await(store.enroll(spent.token(), "vault", "peer", journal.later()));
        store.close();

        List<String> secrets = List.of(secretOf(spent.token()), secretOf(unspent.token()),
                secretOf(enrollment.credential()));
        List<byte[]> forbidden = new ArrayList<>();
        for (String secret : secrets) {
            forbidden.add(secret.getBytes(StandardCharsets.US_ASCII));
            forbidden.add(Base64.getUrlDecoder().decode(secret));
        }
        byte[] inviteId = spent.inviteId().getBytes(StandardCharsets.US_ASCII);
        boolean inviteIdSeen = false;
        List<Path> files;
        try (Stream<Path> walk = Files.walk(journal.root())) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertTrue(files.size() > 5);
        for (Path file : files) {
            byte[] content = Files.readAllBytes(file);
            for (byte[] secret : forbidden) {
                assertFalse("secret found in " + file, contains(content, secret));
            }
            inviteIdSeen |= contains(content, inviteId);
        }
        // The scan can see what is there: the invite id (not secret) is on disk.
        assertTrue("the scan should find the invite id", inviteIdSeen);
    }

    private static String secretOf(String token) {
        return token.substring(token.lastIndexOf('.') + 1);
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Test
    public void inviteTimeToLiveIsCheckedAndNotesAreTruncated() {
        DerbyEnrollmentStore store = journal.open();
        for (Duration bad : List.of(Duration.ZERO, Duration.ofSeconds(-1), Duration.ofHours(24).plusNanos(1))) {
            EnrollmentException refused = failedAlready(store.createInvite(bad, ""), Reason.MALFORMED);
            assertTrue(refused.getMessage(), refused.getMessage().contains("at most PT24H"));
        }
        assertEquals(JournalFixture.START.plus(Duration.ofHours(24)),
                await(store.createInvite(Duration.ofHours(24), null)).expiresAt());

        IssuedInvite noted = await(store.createInvite(Duration.ofMinutes(1), "n".repeat(300)));
        assertEquals("n".repeat(200), journal.queryString("SELECT note FROM INVITES WHERE invite_id = ?",
                noted.inviteId()));
        assertFalse(noted.toString().contains(noted.token()));
    }

    @Test
    public void adminActionsAreAudited() {
        DerbyEnrollmentStore store = journal.open();
        IssuedInvite invite = journal.invite(store);
        EnrolledNode node = await(store.enroll(invite.token(), "audited", "peer", journal.later())).node();
        await(store.revokeNode("audited"));

        assertEquals(3, journal.count("SELECT COUNT(*) FROM AUDIT WHERE actor = 'admin'"));
        assertEquals(invite.inviteId(), journal.queryString("SELECT subject FROM AUDIT WHERE action = 'invite.create'"));
        assertEquals(node.nodeId(), journal.queryString("SELECT subject FROM AUDIT WHERE action = 'node.enroll'"));
        assertEquals(node.nodeId(), journal.queryString("SELECT subject FROM AUDIT WHERE action = 'node.revoke'"));
        assertEquals(String.valueOf(JournalSchema.VERSION), journal.queryString("SELECT version FROM SCHEMA_VERSION"));
    }

    @Test
    public void secondStoreOnTheSameDirectoryInThisJvmIsRefused() {
        journal.open();
        try {
            journal.open();
            fail("a second store opened the same directory");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("is already open in this JVM"));
        }
    }

    @Test
    public void existingEmptyDirectoryIsUsed() throws IOException {
        Files.createDirectories(journal.directory);
        DerbyEnrollmentStore store = journal.open();
        assertNull(store.find("anything").orElse(null));
        assertTrue(Files.exists(journal.directory.resolve("service.properties")));
    }
}
