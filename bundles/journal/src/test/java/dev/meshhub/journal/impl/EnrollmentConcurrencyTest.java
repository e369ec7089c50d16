package dev.meshhub.journal.impl;

import static dev.meshhub.journal.impl.JournalFixture.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.api.enrollment.EnrollmentException.Reason;
import dev.meshhub.api.enrollment.IssuedInvite;

public class EnrollmentConcurrencyTest {

    private static final int ROUNDS = 20;

    @Rule
    public final JournalFixture journal = new JournalFixture();

    @Test
    public void twoEnrollmentsWithOneTokenHaveExactlyOneWinner() throws Exception {
        DerbyEnrollmentStore store = journal.open(2, 64);
        for (int round = 0; round < ROUNDS; round++) {
            IssuedInvite invite = journal.invite(store);
            // Half the rounds race for one name too, half ask for different names.
            String first = "race-" + round + "-a";
            String second = round % 2 == 0 ? first : "race-" + round + "-b";
            List<Outcome> outcomes = race(store, invite.token(), first, second);

            long winners = outcomes.stream().filter(o -> o.enrollment != null).count();
            assertEquals("round " + round + ": " + outcomes, 1, winners);
            Outcome loser = outcomes.stream().filter(o -> o.enrollment == null).findFirst().orElseThrow();
            assertEquals("round " + round + ": " + loser.failure, Reason.USED, loser.failure.reason());
            assertEquals(1, journal.count("SELECT COUNT(*) FROM NODES WHERE node_id ="
                    + " (SELECT used_by_node FROM INVITES WHERE invite_id = ?)", invite.inviteId()));
        }
        assertEquals(ROUNDS, store.nodes().size());
        assertEquals(ROUNDS, journal.count("SELECT COUNT(*) FROM NODES"));
        assertEquals(ROUNDS, journal.count("SELECT COUNT(*) FROM AUDIT WHERE action = 'node.enroll'"));
    }

    private record Outcome(Enrollment enrollment, EnrollmentException failure) {
    }

    private List<Outcome> race(DerbyEnrollmentStore store, String token, String... names) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<CompletableFuture<CompletionStage<Enrollment>>> calls = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (String name : names) {
            CompletableFuture<CompletionStage<Enrollment>> call = new CompletableFuture<>();
            calls.add(call);
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    call.complete(store.enroll(token, name, "peer", journal.later()));
                } catch (Throwable t) {
                    call.completeExceptionally(t);
                }
            }, "enroller-" + name);
            threads.add(thread);
            thread.start();
        }
        start.countDown();
        List<Outcome> outcomes = new ArrayList<>();
        for (CompletableFuture<CompletionStage<Enrollment>> call : calls) {
            CompletableFuture<Enrollment> result = call.get(JournalFixture.WAIT_SECONDS, TimeUnit.SECONDS)
                    .toCompletableFuture();
            try {
                outcomes.add(new Outcome(result.get(JournalFixture.WAIT_SECONDS, TimeUnit.SECONDS), null));
            } catch (ExecutionException e) {
                assertTrue(String.valueOf(e.getCause()), e.getCause() instanceof EnrollmentException);
                outcomes.add(new Outcome(null, (EnrollmentException) e.getCause()));
            } catch (TimeoutException e) {
                throw new AssertionError("enrollment did not complete", e);
            }
        }
        for (Thread thread : threads) {
            thread.join(TimeUnit.SECONDS.toMillis(JournalFixture.WAIT_SECONDS));
        }
        return outcomes;
    }

    @Test
    public void concurrentInvitesAndEnrollmentsAllLand() {
        DerbyEnrollmentStore store = journal.open(2, 256);
        List<CompletionStage<IssuedInvite>> invites = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            invites.add(store.createInvite(null, "bulk " + i));
        }
        List<CompletionStage<Enrollment>> enrollments = new ArrayList<>();
        for (int i = 0; i < invites.size(); i++) {
            enrollments.add(store.enroll(await(invites.get(i)).token(), "bulk-" + i, "peer", journal.later()));
        }
        for (CompletionStage<Enrollment> enrollment : enrollments) {
            Enrollment done = await(enrollment);
            assertEquals(done.node(), store.authenticate(done.credential()).orElseThrow());
        }
        assertEquals(50, store.nodes().size());
    }
}
