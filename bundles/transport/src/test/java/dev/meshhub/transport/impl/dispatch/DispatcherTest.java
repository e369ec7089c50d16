package dev.meshhub.transport.impl.dispatch;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Test;

import com.google.protobuf.ByteString;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.enrollment.Enrollment;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.enrollment.IssuedInvite;
import dev.meshhub.api.policy.NodePolicy;
import dev.meshhub.api.policy.SandboxMode;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.NewTask;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskOutput;
import dev.meshhub.api.task.TaskQuery;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskStarted;
import dev.meshhub.testing.RecordingStreamObserver;
import dev.meshhub.testing.MutableClock;
import dev.meshhub.transport.impl.FakeEnrollmentStore;
import dev.meshhub.server.support.GrpcServers;
import dev.meshhub.transport.impl.FakeTaskJournal;
import dev.meshhub.transport.impl.session.NodeSessionHandle;
import dev.meshhub.transport.impl.session.NodeSessions;

public class DispatcherTest {

    private final MutableClock clock = new MutableClock();
    private final NodeSessions sessions = new NodeSessions(clock, Duration.ofSeconds(5), Duration.ofSeconds(15), (t, p) -> {
    });
    private final ScheduledThreadPoolExecutor timers = GrpcServers.timer("test-task-timer");
    private final FakeTaskJournal journal = new FakeTaskJournal();
    private final FakeEnrollmentStore store = new FakeEnrollmentStore();
    /** What the bound policy service answers; null makes it unbound (no policy service at all). */
    private volatile SandboxPolicy policy = (id, name) -> new NodePolicy(id, SandboxMode.STRICT, List.of("echo"), 1, "test");
    private final SandboxPolicy boundPolicy = (id, name) -> policy.policyFor(id, name);
    private final Dispatcher dispatcher = new Dispatcher(sessions, timers,
            new dev.meshhub.transport.impl.dispatch.TaskLimits(Duration.ofMinutes(1), Duration.ofSeconds(1), 2));

    {
        dispatcher.bindEnrollmentStore(store);
        dispatcher.bindTaskJournal(journal);
        dispatcher.bindSandboxPolicy(boundPolicy);
    }

    @After
    public void stopTimers() {
        timers.shutdownNow();
    }

    /**
     * Timers still waiting to fire later (a task's timeout is a minute here). Work handed to the timer
     * thread to run at once, such as pushing a newly bound policy, is not counted: it may still be queued.
     */
    private long armedTimeouts() {
        return timers.getQueue().stream().filter(r -> ((java.util.concurrent.Delayed) r).getDelay(TimeUnit.MILLISECONDS) > 1000).count();
    }

    private NodeSessionHandle connect(String nodeId, RecordingStreamObserver<HubMessage> stream) {
        NodeSessionHandle session = new NodeSessionHandle(nodeId, "name-" + nodeId, "10.0.0.1:4000", stream, clock);
        sessions.opened(session);
        sessions.register(session);
        return session;
    }

    private static List<HubMessage> tasksSent(RecordingStreamObserver<HubMessage> stream) {
        return stream.sent.stream().filter(HubMessage::hasTask).toList();
    }

    @Test
    public void aTaskIsJournaledBeforeItGoesDownTheStream() throws Exception {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        connect("n-1", stream);
        journal.holdCreates = true;

        TaskHandle handle = dispatcher.dispatch("name-n-1", CommandSpec.argv("echo", "hi"), null);
        assertTrue("nothing sent before the journal has it", tasksSent(stream).isEmpty());
        assertNull("not journaled yet", journal.states.get(handle.taskId()));

        journal.releaseCreates();
        assertEquals(1, tasksSent(stream).size());
        assertEquals(handle.taskId(), tasksSent(stream).get(0).getTask().getTaskId());
        assertEquals(List.of("echo", "hi"), tasksSent(stream).get(0).getTask().getCommand().getArgv().getArgsList());
        handle.dispatched().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(TaskState.DISPATCHED, journal.states.get(handle.taskId()));
    }

    @Test
    public void aNodeThatAnswersWhileTheTaskIsStillBeingSentHasItsEndJournaled() throws Exception {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = connect("n-1", stream);
        // The node's report arrives on another thread the instant the task is on the wire, before the
        // dispatcher has finished sending it: the end must still reach the journal (the soak found it lost).
        stream.onSent = message -> {
            if (message.hasTask()) {
                String taskId = message.getTask().getTaskId();
                dispatcher.started(session, TaskStarted.newBuilder().setTaskId(taskId).build());
                dispatcher.finished(session, TaskFinished.newBuilder().setTaskId(taskId)
                        .setOutcome(TaskFinished.Outcome.SUCCEEDED).setExitCode(0).build());
            }
        };
        TaskHandle handle = dispatcher.dispatch("n-1", CommandSpec.argv("echo", "fast"), null);

        assertEquals(TaskState.SUCCEEDED, handle.result().toCompletableFuture().get(5, TimeUnit.SECONDS).state());
        assertEquals(TaskState.SUCCEEDED, journal.states.get(handle.taskId()));
        // Its timeout was armed after it ended; it must not stay queued (holding the task) for the task's whole timeout.
        assertEquals("timeouts still armed", 0, armedTimeouts());
    }

    @Test
    public void theNodesReportsDriveTheTaskToItsResult() throws Exception {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = connect("n-1", stream);
        List<TaskOutput> outputs = new ArrayList<>();
        TaskHandle handle = dispatcher.dispatch("n-1", CommandSpec.argv("echo", "hi"), outputs::add);

        dispatcher.started(session, TaskStarted.newBuilder().setTaskId(handle.taskId()).setPid(42).build());
        assertEquals(TaskState.RUNNING, journal.states.get(handle.taskId()));
        dispatcher.output(session, dev.meshhub.proto.v1.TaskOutput.newBuilder().setTaskId(handle.taskId())
                .setStream(dev.meshhub.proto.v1.TaskOutput.Stream.STDOUT).setData(ByteString.copyFromUtf8("hi\n")).setSequence(1).build());
        dispatcher.finished(session, TaskFinished.newBuilder().setTaskId(handle.taskId())
                .setOutcome(TaskFinished.Outcome.SUCCEEDED).setExitCode(0).build());

        TaskResult result = handle.result().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(TaskState.SUCCEEDED, result.state());
        assertEquals(Integer.valueOf(0), result.exitCode());
        assertEquals("hi\n", new String(outputs.get(0).data()));
        assertEquals("hi\n", journal.output.get(handle.taskId()).toString());
        assertEquals(TaskState.SUCCEEDED, journal.states.get(handle.taskId()));
        assertEquals(0, dispatcher.pendingTasks());
        assertEquals("an ended task's timeout is not left queued", 0, armedTimeouts());
    }

    @Test
    public void aDisallowedCommandIsRefusedBeforeTheJournalNamingNodeModeAndRule() {
        connect("n-1", new RecordingStreamObserver<>());
        DispatchException e = assertThrows(DispatchException.class, () -> dispatcher.dispatch("n-1", CommandSpec.argv("rm", "-rf", "/"), null));
        assertEquals(DispatchException.Reason.POLICY_DENIED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("node name-n-1 (n-1) runs under STRICT policy; 'rm' is not on its allowlist"));
        assertTrue(e.getMessage(), e.getMessage().contains("rule strict.allowlist"));
        e = assertThrows(DispatchException.class, () -> dispatcher.dispatch("n-1", CommandSpec.shell("echo hi; rm -rf /"), null));
        assertTrue(e.getMessage(), e.getMessage().contains("rule strict.no-shell"));
        assertTrue("nothing journaled", journal.states.isEmpty());
    }

    @Test
    public void withNoPolicyServiceNothingRuns() {
        connect("n-1", new RecordingStreamObserver<>());
        dispatcher.unbindSandboxPolicy(boundPolicy);
        DispatchException e = assertThrows(DispatchException.class, () -> dispatcher.dispatch("n-1", CommandSpec.argv("echo"), null));
        assertEquals(DispatchException.Reason.NO_POLICY, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("fail closed"));
    }

    @Test
    public void aPolicyServiceThatThrowsMeansNothingIsAllowed() {
        connect("n-1", new RecordingStreamObserver<>());
        policy = (id, name) -> {
            throw new IllegalStateException("cannot read the policy");
        };
        DispatchException e = assertThrows(DispatchException.class, () -> dispatcher.dispatch("n-1", CommandSpec.argv("echo"), null));
        assertEquals(DispatchException.Reason.POLICY_DENIED, e.reason());
    }

    @Test
    public void unknownOfflineAndBusyNodesAreRefused() {
        assertEquals(DispatchException.Reason.UNKNOWN_NODE,
                assertThrows(DispatchException.class, () -> dispatcher.dispatch("nobody", CommandSpec.argv("echo"), null)).reason());
        assertEquals(DispatchException.Reason.NODE_OFFLINE,
                assertThrows(DispatchException.class, () -> dispatcher.dispatch("n-2", CommandSpec.argv("echo"), null)).reason());
        connect("n-1", new RecordingStreamObserver<>());
        dispatcher.dispatch("n-1", CommandSpec.argv("echo"), null);
        dispatcher.dispatch("n-1", CommandSpec.argv("echo"), null);
        DispatchException busy = assertThrows(DispatchException.class, () -> dispatcher.dispatch("n-1", CommandSpec.argv("echo"), null));
        assertEquals(DispatchException.Reason.BUSY, busy.reason());
    }

    @Test
    public void whenTheNodesStreamEndsEveryPendingTaskFailsDurablyWithADiagnostic() throws Exception {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = connect("n-1", stream);
        TaskHandle first = dispatcher.dispatch("n-1", CommandSpec.argv("echo", "1"), null);
        TaskHandle second = dispatcher.dispatch("n-1", CommandSpec.argv("echo", "2"), null);

        sessions.streamEnded(session, "stream cancelled: the node went away");

        for (TaskHandle handle : List.of(first, second)) {
            TaskResult result = handle.result().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertEquals(TaskState.FAILED, result.state());
            assertTrue(result.diagnostic(), result.diagnostic().contains("node name-n-1 (n-1) disconnected: stream cancelled: the node went away"));
            assertTrue(result.diagnostic(), result.diagnostic().contains("last heartbeat " + session.lastHeard()));
            assertEquals(TaskState.FAILED, journal.states.get(handle.taskId()));
        }
        assertEquals(0, dispatcher.pendingTasks());
    }

    @Test
    public void aNodeCannotReportOnAnotherNodesTask() throws Exception {
        NodeSessionHandle one = connect("n-1", new RecordingStreamObserver<>());
        NodeSessionHandle other = connect("n-2", new RecordingStreamObserver<>());
        TaskHandle handle = dispatcher.dispatch("n-1", CommandSpec.argv("echo"), null);
        dispatcher.finished(other, TaskFinished.newBuilder().setTaskId(handle.taskId()).setOutcome(TaskFinished.Outcome.SUCCEEDED).build());
        assertFalse(handle.result().toCompletableFuture().isDone());
        dispatcher.finished(one, TaskFinished.newBuilder().setTaskId(handle.taskId()).setOutcome(TaskFinished.Outcome.FAILED).setExitCode(3).build());
        assertEquals(Integer.valueOf(3), handle.result().toCompletableFuture().get(5, TimeUnit.SECONDS).exitCode());
    }

    @Test
    public void cancelSendsACancelToTheNodeAndANodeRefusalIsAFailure() throws Exception {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        NodeSessionHandle session = connect("n-1", stream);
        TaskHandle handle = dispatcher.dispatch("n-1", CommandSpec.argv("echo"), null);
        handle.cancel("enough");
        HubMessage cancel = stream.sent.stream().filter(HubMessage::hasCancelTask).findFirst().orElseThrow();
        assertEquals(handle.taskId(), cancel.getCancelTask().getTaskId());
        assertEquals("enough", cancel.getCancelTask().getReason());
        dispatcher.finished(session, TaskFinished.newBuilder().setTaskId(handle.taskId()).setOutcome(TaskFinished.Outcome.CANCELLED).build());
        assertEquals(TaskState.CANCELLED, handle.result().toCompletableFuture().get(5, TimeUnit.SECONDS).state());

        TaskHandle refused = dispatcher.dispatch("n-1", CommandSpec.argv("echo"), null);
        dispatcher.finished(session, TaskFinished.newBuilder().setTaskId(refused.taskId()).setOutcome(TaskFinished.Outcome.REFUSED)
                .setDiagnostic("rule strict.allowlist").build());
        TaskResult result = refused.result().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(TaskState.FAILED, result.state());
        assertTrue(result.diagnostic().startsWith("refused by the node: "));
    }

    @Test
    public void aJournalThatCannotRecordTheTaskMeansNothingIsSent() throws Exception {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        connect("n-1", stream);
        journal.failCreates = true;
        TaskHandle handle = dispatcher.dispatch("n-1", CommandSpec.argv("echo"), null);
        Exception e = assertThrows(Exception.class, () -> handle.result().toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertTrue(String.valueOf(e.getCause()), e.getCause() instanceof DispatchException);
        assertTrue(tasksSent(stream).isEmpty());
        assertEquals(0, dispatcher.pendingTasks());
    }

    @Test
    public void policyChangesArePushedOnlyWhenTheyChangeSomething() {
        RecordingStreamObserver<HubMessage> stream = new RecordingStreamObserver<>();
        connect("n-1", stream);
        long pushesAtConnect = stream.sent.stream().filter(HubMessage::hasPolicyUpdate).count();
        assertEquals("the current policy is pushed at registration", 1, pushesAtConnect);
        dispatcher.pushPolicies();
        assertEquals(1, stream.sent.stream().filter(HubMessage::hasPolicyUpdate).count());
        policy = (id, name) -> new NodePolicy(id, SandboxMode.PERMISSIVE, List.of(), 2, "test");
        dispatcher.pushPolicies();
        List<HubMessage> updates = stream.sent.stream().filter(HubMessage::hasPolicyUpdate).toList();
        assertEquals(2, updates.size());
        assertEquals("PERMISSIVE", updates.get(1).getPolicyUpdate().getMode().name());
        assertTrue(updates.get(1).getPolicyUpdate().getRevision() > updates.get(0).getPolicyUpdate().getRevision());
    }

    /** A journal in memory; creates can be held back to show nothing is sent before they complete. */
}
