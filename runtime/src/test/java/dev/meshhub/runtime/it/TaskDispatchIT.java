package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

import com.google.protobuf.ByteString;

import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.task.CommandSpec;
import dev.meshhub.api.task.DispatchException;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskHandle;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskOutput;
import dev.meshhub.api.task.TaskOutputListener;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskResult;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskStarted;

/**
 * Dispatch through the real bundles: the dispatcher service, the journal on disk, the policy
 * service, a node speaking the wire protocol over loopback; and policy bundles swapped under a
 * connected node without dropping its stream.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class TaskDispatchIT extends HubTestBase {

    @Inject
    private TaskDispatcher dispatcher;

    @Inject
    private TaskJournal journal;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("TaskDispatchIT", Map.of(), "meshhub");
    }

    /** Policy updates the answering node received, in order. */
    private final List<dev.meshhub.proto.v1.SandboxPolicy> policiesReceived = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A node that answers every task it is sent with the given outcome, echoing the argv as output. */
    private void answerTasks(TestStream stream, int exitCode) {
        Thread answerer = new Thread(() -> {
            try {
                while (!stream.ended.isDone()) {
                    HubMessage message = stream.received.poll(100, TimeUnit.MILLISECONDS);
                    if (message != null && message.hasPolicyUpdate()) {
                        policiesReceived.add(message.getPolicyUpdate());
                    }
                    if (message == null || !message.hasTask()) {
                        continue;
                    }
                    String id = message.getTask().getTaskId();
                    stream.send(NodeMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(id).setPid(1)
                            .setProgram(message.getTask().getCommand().getArgv().getArgsCount() == 0 ? "/bin/sh"
                                    : "/usr/bin/" + message.getTask().getCommand().getArgv().getArgs(0))).build());
                    stream.send(NodeMessage.newBuilder().setTaskOutput(dev.meshhub.proto.v1.TaskOutput.newBuilder().setTaskId(id)
                            .setStream(dev.meshhub.proto.v1.TaskOutput.Stream.STDOUT).setSequence(1)
                            .setData(ByteString.copyFromUtf8(String.join(" ", message.getTask().getCommand().getArgv().getArgsList())))).build());
                    stream.send(NodeMessage.newBuilder().setTaskFinished(TaskFinished.newBuilder().setTaskId(id)
                            .setOutcome(exitCode == 0 ? TaskFinished.Outcome.SUCCEEDED : TaskFinished.Outcome.FAILED).setExitCode(exitCode)).build());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "test-node-answerer");
        answerer.setDaemon(true);
        answerer.start();
    }

    private TestStream connectedNode(String name) throws Exception {
        TestNode enrolled = hub.enroll(name);
        TestStream stream = enrolled.stream().hello().keepAlive();
        Poll.until(name + " listed", Duration.ofSeconds(10), () -> directory.session(enrolled.getNodeId()).isPresent());
        return stream;
    }

    @Test
    public void aTaskRunsThroughTheRealBundlesAndIsJournaled() throws Exception {
        try (TestStream stream = connectedNode("runner")) {
            answerTasks(stream, 0);
            List<TaskOutput> output = new ArrayList<>();
            TaskHandle handle = dispatcher.dispatch("runner", CommandSpec.argv("echo", "hi"), output::add);
            TaskResult result = handle.result().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(TaskState.SUCCEEDED, result.state());
            assertEquals("echo hi", new String(output.get(0).data()));
            Poll.until("journaled as SUCCEEDED", Duration.ofSeconds(10), () -> record(handle.taskId()).state() == TaskState.SUCCEEDED);
            TaskRecord record = record(handle.taskId());
            assertEquals(Integer.valueOf(0), record.exitCode());
            assertEquals("echo hi", new String(record.outputTail()));
            assertNotNull(record.dispatchedAt());
            assertEquals("the journal keeps the program the node ran", "/usr/bin/echo", record.program());
        }
    }

    @Test
    public void outputCreditIsGrantedAsTakenAndANodeSendingPastItIsCutOff() throws Exception {
        TestNode enrolled = hub.enroll("flooder");
        try (TestStream stream = enrolled.stream().helloWithOutputCredit().keepAlive()) {
            Poll.until("flooder listed", Duration.ofSeconds(10), () -> directory.session(enrolled.getNodeId()).isPresent());
            // A caller that holds every chunk until the test lets it take them.
            List<Runnable> held = new java.util.concurrent.CopyOnWriteArrayList<>();
            TaskOutputListener holding = new TaskOutputListener() {
                @Override
                public void onOutput(TaskOutput output) {
                }

                @Override
                public void onOutput(TaskOutput output, Runnable taken) {
                    held.add(taken);
                }
            };
            TaskHandle handle = dispatcher.dispatch("flooder", CommandSpec.argv("cat", "big"), holding);
            HubMessage assignment = stream.await(HubMessage::hasTask, 10);
            long window = assignment.getTask().getOutputWindowBytes();
            assertEquals("the hub's default window", 1024 * 1024, window);
            String id = assignment.getTask().getTaskId();
            int chunk = 64 * 1024;
            int sequence = 0;
            for (long sent = 0; sent < window; sent += chunk) {
                stream.send(output(id, ++sequence, chunk));
            }
            int chunks = sequence;
            Poll.until("the caller holds the whole window", Duration.ofSeconds(10), () -> held.size() == chunks);
            assertTrue("no credit while the caller holds everything", stream.received.stream().noneMatch(HubMessage::hasOutputCredit));

            for (int i = 0; i < 4; i++) {
                held.get(i).run();
            }
            HubMessage credit = stream.await(HubMessage::hasOutputCredit, 10);
            assertEquals(id, credit.getOutputCredit().getTaskId());
            assertEquals("what the caller took, in one batch of a quarter window", window / 4, credit.getOutputCredit().getBytes());

            // Past what was granted: the hub cuts the node off rather than hold more than a window of the task's output.
            for (long sent = 0; sent < window / 2; sent += chunk) {
                stream.send(output(id, ++sequence, chunk));
            }
            TaskResult result = handle.result().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(TaskState.FAILED, result.state());
            assertTrue(result.diagnostic(), result.diagnostic().contains("more than the credit the hub granted"));
            assertTrue("the stream was closed", stream.ended.get(10, TimeUnit.SECONDS) != null);
        }
    }

    @Test
    public void aNodeWithoutOutputCreditGetsNoWindow() throws Exception {
        try (TestStream stream = connectedNode("older-agent")) {
            dispatcher.dispatch("older-agent", CommandSpec.argv("echo", "hi"), TaskOutputListener.NONE);
            HubMessage assignment = stream.await(HubMessage::hasTask, 10);
            assertEquals("0: send output as it comes, as before", 0, assignment.getTask().getOutputWindowBytes());
        }
    }

    private static NodeMessage output(String taskId, long sequence, int bytes) {
        return NodeMessage.newBuilder().setTaskOutput(dev.meshhub.proto.v1.TaskOutput.newBuilder().setTaskId(taskId)
                .setStream(dev.meshhub.proto.v1.TaskOutput.Stream.STDOUT).setSequence(sequence)
                .setData(ByteString.copyFrom(new byte[bytes]))).build();
    }

    @Test
    public void aSecretVariableReachesTheNodeButItsValueIsNeverJournaled() throws Exception {
        String secret = "s3cr3t-" + java.util.UUID.randomUUID();
        try (TestStream stream = connectedNode("secretive")) {
            TaskHandle handle = dispatcher.dispatch("secretive", CommandSpec.argv("echo", "hi")
                    .withSecretEnvironment(Map.of("LANG", secret)), null);
            HubMessage assignment = null;
            while (assignment == null) {
                HubMessage message = stream.next(10);
                assertNotNull("the node got no task", message);
                if (message.hasTask()) {
                    assignment = message;
                }
            }
            assertEquals("the node gets the value", secret, assignment.getTask().getCommand().getSecretEnvironmentMap().get("LANG"));
            TaskRecord record = record(handle.taskId());
            String stored = new String(record.spec(), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertFalse("the journal never holds the value", stored.contains(secret));
            assertTrue("the journal keeps the name", dev.meshhub.proto.v1.TaskAssignment.parseFrom(record.spec()).getCommand()
                    .getSecretEnvironmentMap().containsKey("LANG"));
            dev.meshhub.api.task.DispatchException loader = org.junit.Assert.assertThrows(dev.meshhub.api.task.DispatchException.class,
                    () -> dispatcher.dispatch("secretive", CommandSpec.argv("echo", "hi")
                            .withSecretEnvironment(Map.of("LD_PRELOAD", "/tmp/x.so")), null));
            assertTrue(loader.getMessage(), loader.getMessage().contains("rule strict.environment"));
        }
    }

    @Test
    public void aNodeDroppingWithManyTasksPendingFailsThemAllDurably() throws Exception {
        List<TaskHandle> handles = new ArrayList<>();
        TestStream stream = connectedNode("dropper");
        for (int i = 0; i < 20; i++) {
            handles.add(dispatcher.dispatch("dropper", CommandSpec.argv("sleep", "60"), null));
        }
        for (TaskHandle handle : handles) {
            handle.dispatched().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        stream.cancel();
        for (TaskHandle handle : handles) {
            TaskResult result = handle.result().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertEquals(TaskState.FAILED, result.state());
            assertTrue(result.diagnostic(), result.diagnostic().contains("dropper") && result.diagnostic().contains("last heartbeat"));
        }
        Poll.until("all journaled as FAILED", Duration.ofSeconds(10),
                () -> handles.stream().allMatch(h -> record(h.taskId()).state() == TaskState.FAILED));
    }

    @Test
    public void swappingThePolicyBundleKeepsTheStreamAndChangesWhatTheNodeMayRun() throws Exception {
        Path allowlists = Path.of(context.getProperty("meshhub.home")).resolve("etc/node-allowlists.properties");
        Files.writeString(allowlists, "* = uname\n");
        try (TestStream stream = connectedNode("swapped")) {
            answerTasks(stream, 0);
            dispatcher.dispatch("swapped", CommandSpec.argv("echo", "before"), null).result().toCompletableFuture().get(10, TimeUnit.SECONDS);

            Bundle example = context.installBundle(HubTestSupport.examplePolicyBundle().toUri().toString());
            example.start();
            try {
                Poll.until("the file policy in force", Duration.ofSeconds(10), () -> refusedBecauseOf("swapped", "echo"));
                assertEquals(TaskState.SUCCEEDED, dispatcher.dispatch("swapped", CommandSpec.argv("uname"), null)
                        .result().toCompletableFuture().get(10, TimeUnit.SECONDS).state());
                Poll.until("the node told of the file policy", Duration.ofSeconds(10),
                        () -> policiesReceived.stream().anyMatch(p -> p.getAllowedExecutablesList().equals(List.of("uname"))));
            } finally {
                example.uninstall();
            }
            Poll.until("the default policy back", Duration.ofSeconds(10), () -> !refusedBecauseOf("swapped", "echo"));

            Bundle defaultPolicy = bundle("dev.meshhub.policy");
            defaultPolicy.stop();
            DispatchException closed = assertThrows(DispatchException.class, () -> dispatcher.dispatch("swapped", CommandSpec.argv("echo"), null));
            assertEquals(DispatchException.Reason.NO_POLICY, closed.reason());
            defaultPolicy.start();
            defaultPolicy.update();
            Poll.until("the updated default policy in force", Duration.ofSeconds(10), () -> !refusedBecauseOf("swapped", "echo"));

            assertFalse("the node's stream survived every swap", stream.ended.isDone());
        }
    }

    /**
     * RELIABILITY 33: the journal bundle stopped and started while tasks flow. The node's stream
     * stays up, tasks meanwhile are refused or failed with a clear reason (never lost silently), the
     * database reopens intact and work flows again.
     */
    @Test
    public void theJournalBundleStoppedAndStartedUnderLoadCorruptsNothing() throws Exception {
        try (TestStream stream = connectedNode("steady-worker")) {
            answerTasks(stream, 0);
            TaskHandle before = dispatcher.dispatch("steady-worker", CommandSpec.argv("echo", "before"), null);
            assertEquals(TaskState.SUCCEEDED, before.result().toCompletableFuture().get(10, TimeUnit.SECONDS).state());

            java.util.concurrent.atomic.AtomicBoolean load = new java.util.concurrent.atomic.AtomicBoolean(true);
            List<String> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<TaskHandle> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread loader = new Thread(() -> {
                while (load.get()) {
                    try {
                        accepted.add(dispatcher.dispatch("steady-worker", CommandSpec.argv("echo", "load"), null));
                    } catch (DispatchException e) {
                        refusals.add(e.reason() + ": " + e.getMessage());
                    }
                    Thread.onSpinWait();
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "test-load");
            loader.start();
            Bundle journalBundle = bundle("dev.meshhub.journal");
            try {
                Poll.until("some load before the stop", Duration.ofSeconds(10), () -> accepted.size() > 20);
                journalBundle.stop();
                Poll.until("refusals while the journal is down", Duration.ofSeconds(10), () -> !refusals.isEmpty());
                journalBundle.start();
                int acceptedAtRestart = accepted.size();
                Poll.until("load accepted again after the restart", Duration.ofSeconds(20), () -> accepted.size() > acceptedAtRestart + 20);
            } finally {
                load.set(false);
                loader.join(10_000);
            }
            assertTrue(refusals.get(0), refusals.get(0).contains("journal") || refusals.get(0).contains("enrollment store"));
            for (TaskHandle handle : accepted) {
                // Every accepted task ends one way or another; none is left hanging.
                try {
                    assertNotNull(handle.result().toCompletableFuture().get(30, TimeUnit.SECONDS).state());
                } catch (java.util.concurrent.ExecutionException refusedLater) {
                    assertTrue(String.valueOf(refusedLater.getCause()), refusedLater.getCause() instanceof DispatchException);
                }
            }
            assertFalse("the node's stream survived the journal's restart", stream.ended.isDone());
            TaskHandle after = dispatcher.dispatch("steady-worker", CommandSpec.argv("echo", "after"), null);
            assertEquals(TaskState.SUCCEEDED, after.result().toCompletableFuture().get(10, TimeUnit.SECONDS).state());
            TaskJournal reopened = context.getService(context.getServiceReference(TaskJournal.class));
            Poll.until("the task before the restart is still on disk", Duration.ofSeconds(10), () -> {
                try {
                    return reopened.get(before.taskId()).toCompletableFuture().get(10, TimeUnit.SECONDS)
                            .map(r -> r.state() == TaskState.SUCCEEDED).orElse(false);
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    @Test
    public void theShellRunsCommandsListsTasksAndSetsPolicies() throws Exception {
        try (TestStream stream = connectedNode("shelled-worker")) {
            answerTasks(stream, 0);
            org.apache.felix.service.command.CommandProcessor processor = context.getService(
                    context.getServiceReference(org.apache.felix.service.command.CommandProcessor.class));
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.io.PrintStream console = new java.io.PrintStream(out, true);
            try (org.apache.felix.service.command.CommandSession session = processor.createSession(
                    new java.io.ByteArrayInputStream(new byte[0]), console, console)) {
                Object exit = session.execute("mesh:exec shelled-worker -- echo from-the-shell");
                assertEquals(0, ((Number) exit).intValue());
                assertTrue(out.toString(), out.toString().contains("echo from-the-shell"));

                Exception refused = assertThrows(Exception.class, () -> session.execute("mesh:exec shelled-worker -- rm -rf /"));
                assertTrue(refused.getMessage(), refused.getMessage().contains("rule strict.allowlist"));

                // The journal records the end a moment after the caller learns it (group commit).
                Poll.until("mesh:tasks shows the task SUCCEEDED", Duration.ofSeconds(10), () -> {
                    out.reset();
                    try {
                        session.execute("mesh:tasks --node shelled-worker");
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                    return out.toString().contains("SUCCEEDED") && out.toString().contains("echo from-the-shell");
                });

                Exception unconfirmed = assertThrows(Exception.class, () -> session.execute("mesh:policy shelled-worker permissive"));
                assertTrue(unconfirmed.getMessage(), unconfirmed.getMessage().contains("--confirm"));
                String permissive = String.valueOf(session.execute("mesh:policy --confirm shelled-worker permissive"));
                assertTrue(permissive, permissive.contains("is now PERMISSIVE"));
                Poll.until("the node told it is PERMISSIVE", Duration.ofSeconds(10), () -> policiesReceived.stream()
                        .anyMatch(p -> p.getMode() == dev.meshhub.proto.v1.SandboxPolicy.Mode.PERMISSIVE));
                String strict = String.valueOf(session.execute("mesh:policy shelled-worker strict"));
                assertTrue(strict, strict.contains("is now STRICT"));
            }
        }
    }

    private boolean refusedBecauseOf(String node, String executable) {
        try {
            dispatcher.dispatch(node, CommandSpec.argv(executable), null).result().toCompletableFuture().get(10, TimeUnit.SECONDS);
            return false;
        } catch (DispatchException e) {
            return e.reason() == DispatchException.Reason.POLICY_DENIED;
        } catch (Exception e) {
            return false;
        }
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle bundle : context.getBundles()) {
            if (bundle.getSymbolicName().equals(symbolicName)) {
                return bundle;
            }
        }
        throw new AssertionError("no bundle " + symbolicName);
    }

    private TaskRecord record(String taskId) {
        try {
            return journal.get(taskId).toCompletableFuture().get(10, TimeUnit.SECONDS).orElseThrow();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
