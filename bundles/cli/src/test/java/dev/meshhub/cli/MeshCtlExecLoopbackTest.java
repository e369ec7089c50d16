package dev.meshhub.cli;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import com.google.protobuf.ByteString;
import dev.meshhub.proto.v1.CancelTaskRequest;
import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.ExecEvent;
import dev.meshhub.proto.v1.ExecRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskOutput;
import dev.meshhub.proto.v1.TaskState;
import io.grpc.Status;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code meshctl exec} against a real grpc-java server on 127.0.0.1 ({@link FakeAdminHub}). */
public class MeshCtlExecLoopbackTest {

    private static final long WAIT_MS = 10_000;

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private FakeAdminHub hub;
    private final Map<String, String> env = new HashMap<>();
    private final ExecutorService background = Executors.newCachedThreadPool();

    /** Records bytes; a test can wait (without sleeping) until some text has arrived. */
    static final class Watched extends OutputStream {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            notifyAll();
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            notifyAll();
        }

        synchronized boolean awaitContains(String text, long timeoutMs) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (!bytes.toString(StandardCharsets.UTF_8).contains(text)) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    return false;
                }
                wait(left);
            }
            return true;
        }

        synchronized byte[] toByteArray() {
            return bytes.toByteArray();
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    /** Ctrl-C on demand. */
    static final class ManualInterrupts implements Interrupts {
        private volatile Runnable action;

        @Override
        public Registration register(Runnable a) {
            action = a;
            return () -> action = null;
        }

        /** Fires like a shutdown hook would: on its own thread; returns when the action has returned. */
        Thread fire() {
            Runnable a = action;
            assertNotNull("exec registered no interrupt action", a);
            Thread t = new Thread(a, "test-interrupt");
            t.start();
            return t;
        }
    }

    private final Watched stdout = new Watched();
    private final Watched stderr = new Watched();

    @Before
    public void setUp() throws IOException {
        hub = new FakeAdminHub();
        Path home = tmp.newFolder("hub-home").toPath();
        Files.createDirectories(home.resolve("etc"));
        Files.writeString(home.resolve("etc/admin.token"), FakeAdminHub.ADMIN_TOKEN + "\n");
        env.put("MESHHUB_ADMIN_ADDRESS", hub.address());
        env.put("MESHHUB_HOME", home.toString());
    }

    @After
    public void tearDown() throws InterruptedException {
        background.shutdownNow();
        hub.close();
    }

    /**
     * Runs meshctl with buffered streams (as System.out is), so output only shows up in
     * {@link #stdout}/{@link #stderr} when meshctl flushes.
     */
    private MeshCtlLoopbackTest.Result meshctl(Interrupts interrupts, String... args) {
        PrintStream out = new PrintStream(new BufferedOutputStream(stdout, 1 << 16), false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new BufferedOutputStream(stderr, 1 << 16), false, StandardCharsets.UTF_8);
        int code = MeshCtl.run(args, out, err, env, k -> null, interrupts);
        out.flush();
        err.flush();
        return new MeshCtlLoopbackTest.Result(code, stdout.text(), stderr.text());
    }

    private MeshCtlLoopbackTest.Result meshctl(String... args) {
        return meshctl(Interrupts.NONE, args);
    }

    static TaskInfo.Builder task(String id) {
        return TaskInfo.newBuilder().setTaskId(id).setNodeId("n-0000000000a1").setNodeName("web-1").setKind("command")
                .setSummary("some command").setCreatedAtMs(1_767_225_600_000L);
    }

    static ExecEvent accepted(String id) {
        return ExecEvent.newBuilder().setAccepted(task(id).setState(TaskState.DISPATCHED)).build();
    }

    static ExecEvent output(TaskOutput.Stream stream, byte[] data) {
        return ExecEvent.newBuilder().setOutput(TaskOutput.newBuilder().setTaskId("t-1").setStream(stream)
                .setData(ByteString.copyFrom(data))).build();
    }

    static ExecEvent output(TaskOutput.Stream stream, String text) {
        return output(stream, text.getBytes(StandardCharsets.UTF_8));
    }

    static ExecEvent finished(TaskState state, Integer exitCode, String diagnostic) {
        TaskInfo.Builder t = task("t-1").setState(state).setDiagnostic(diagnostic);
        if (exitCode != null) {
            t.setExitCode(exitCode);
        }
        return ExecEvent.newBuilder().setFinished(t).build();
    }

    /** An Exec script that sends these events and completes. */
    static FakeAdminHub.ExecScript sends(ExecEvent... events) {
        return (request, observer) -> {
            for (ExecEvent e : events) {
                observer.onNext(e);
            }
            observer.onCompleted();
        };
    }

    private ExecRequest lastExec() throws InterruptedException {
        Object r = hub.requests.poll(5, TimeUnit.SECONDS);
        assertTrue("expected an ExecRequest, got " + r, r instanceof ExecRequest);
        return (ExecRequest) r;
    }

    @Test
    public void streamsStdoutAndStderrLiveAndSeparatelyAndExitsWithTheRemoteCode() throws Exception {
        byte[] binary = {'b', 'i', 'n', ':', (byte) 0xff, 0, (byte) 0xc3, '\n'};
        hub.exec = (request, events) -> {
            events.onNext(accepted("t-1"));
            events.onNext(output(TaskOutput.Stream.STDOUT, "first line\n"));
            // Live: the next chunk only comes once the first one reached meshctl's stdout (flushed).
            if (!stdout.awaitContains("first line\n", WAIT_MS)) {
                events.onError(Status.INTERNAL.withDescription("stdout was not flushed per chunk").asRuntimeException());
                return;
            }
            events.onNext(output(TaskOutput.Stream.STDERR, "warning: careful\n"));
            if (!stderr.awaitContains("warning: careful\n", WAIT_MS)) {
                events.onError(Status.INTERNAL.withDescription("stderr was not flushed per chunk").asRuntimeException());
                return;
            }
            events.onNext(output(TaskOutput.Stream.STDOUT, binary));
            events.onNext(finished(TaskState.FAILED, 3, "exited with 3"));
            events.onCompleted();
        };
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "make", "test");
        assertEquals(r.toString(), 3, r.code);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write("first line\n".getBytes(StandardCharsets.UTF_8));
        expected.write(binary);
        assertArrayEquals("raw bytes, in order", expected.toByteArray(), stdout.toByteArray());
        assertEquals("warning: careful\n", r.err);
        ExecRequest request = lastExec();
        assertEquals("web-1", request.getNode());
        assertEquals(List.of("make", "test"), request.getCommand().getArgv().getArgsList());
    }

    @Test
    public void successExitsZeroWithNothingButTheOutput() {
        hub.exec = sends(accepted("t-1"), output(TaskOutput.Stream.STDOUT, "ok\n"),
                finished(TaskState.SUCCEEDED, 0, ""));
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "true");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("ok\n", r.out);
        assertEquals("", r.err);
    }

    @Test
    public void refusalsPrintTheHubsMessageOnOneLineAndExit1() {
        Status[] refusals = {
            Status.PERMISSION_DENIED.withDescription("policy of web-1 (STRICT) does not allow 'rm'"),
            Status.NOT_FOUND.withDescription("no node with id or name 'ghost'"),
            Status.FAILED_PRECONDITION.withDescription("node web-1 is offline"),
            Status.RESOURCE_EXHAUSTED.withDescription("node web-1 is busy (4 tasks running)")};
        for (Status refusal : refusals) {
            hub.exec = (request, events) -> events.onError(refusal.asRuntimeException());
            stdout.bytes.reset();
            stderr.bytes.reset();
            MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "rm", "-rf", "/tmp/x");
            assertEquals(r.toString(), 1, r.code);
            assertEquals("meshctl: " + refusal.getDescription() + "\n", r.err);
            assertEquals("", r.out);
        }
    }

    @Test
    public void argvIsSentVerbatimAfterTheDelimiterAndOptionsMapToTheirFields() throws Exception {
        Path atFile = tmp.newFile("args.txt").toPath();
        Files.writeString(atFile, "expanded\n");
        hub.exec = sends(accepted("t-1"), finished(TaskState.SUCCEEDED, 0, ""));
        MeshCtlLoopbackTest.Result r = meshctl("exec", "--timeout", "90s", "web-1", "--cwd", "sub dir/x",
                "--env", "A=1", "--env", "B=x=y", "--env=EMPTY=", "--",
                "printf", "%s|", "a b", "-n", "--timeout", "--", "", "*.txt", "$HOME", "@" + atFile, "--env", "C=3");
        assertEquals(r.toString(), 0, r.code);
        ExecRequest request = lastExec();
        assertEquals("web-1", request.getNode());
        CommandTask command = request.getCommand();
        assertEquals(CommandTask.ProgramCase.ARGV, command.getProgramCase());
        assertEquals(List.of("printf", "%s|", "a b", "-n", "--timeout", "--", "", "*.txt", "$HOME", "@" + atFile,
                "--env", "C=3"), command.getArgv().getArgsList());
        assertEquals("sub dir/x", command.getWorkingDirectory());
        assertEquals(Map.of("A", "1", "B", "x=y", "EMPTY", ""), command.getEnvironmentMap());
        assertEquals(90_000, command.getTimeoutMs());
    }

    @Test
    public void secretVariablesGoInTheirOwnMapAndCanComeFromMeshctlsEnvironment() throws Exception {
        hub.exec = sends(accepted("t-1"), finished(TaskState.SUCCEEDED, 0, ""));
        env.put("DEPLOY_TOKEN", "s3cr3t-from-env");
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--secret-env", "DEPLOY_TOKEN", "--secret-env", "OTHER=given",
                "--env", "PLAIN=1", "--", "deploy");
        assertEquals(r.toString(), 0, r.code);
        CommandTask command = lastExec().getCommand();
        assertEquals(Map.of("DEPLOY_TOKEN", "s3cr3t-from-env", "OTHER", "given"), command.getSecretEnvironmentMap());
        assertEquals(Map.of("PLAIN", "1"), command.getEnvironmentMap());

        MeshCtlLoopbackTest.Result missing = meshctl("exec", "web-1", "--secret-env", "NOT_SET", "--", "deploy");
        assertEquals(2, missing.code);
        assertTrue(missing.err, missing.err.contains("--secret-env NOT_SET: NOT_SET is not set in meshctl's environment"));
    }

    @Test
    public void withoutOptionsTheHubDefaultsApply() throws Exception {
        hub.exec = sends(finished(TaskState.SUCCEEDED, 0, ""));
        assertEquals(0, meshctl("exec", "n-0000000000a1", "--", "uptime").code);
        CommandTask command = lastExec().getCommand();
        assertEquals(0, command.getTimeoutMs());
        assertEquals("", command.getWorkingDirectory());
        assertTrue(command.getEnvironmentMap().isEmpty());
    }

    @Test
    public void shellSendsTheLineAsAShellCommand() throws Exception {
        hub.exec = sends(accepted("t-1"), output(TaskOutput.Stream.STDOUT, "3\n"), finished(TaskState.SUCCEEDED, 0, ""));
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--shell", "ls *.log | wc -l", "--timeout", "2m");
        assertEquals(r.toString(), 0, r.code);
        CommandTask command = lastExec().getCommand();
        assertEquals(CommandTask.ProgramCase.SHELL_COMMAND, command.getProgramCase());
        assertEquals("ls *.log | wc -l", command.getShellCommand());
        assertEquals(120_000, command.getTimeoutMs());
    }

    @Test
    public void cancelledExits130AndTimedOutExits124() {
        hub.exec = sends(accepted("t-1"), output(TaskOutput.Stream.STDOUT, "partial\n"),
                finished(TaskState.CANCELLED, 143, "cancelled by admin"));
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "sleep", "600");
        assertEquals(r.toString(), 130, r.code);
        assertEquals("partial\n", r.out);
        assertEquals("meshctl: task t-1 was cancelled: cancelled by admin\n", r.err);

        stdout.bytes.reset();
        stderr.bytes.reset();
        hub.exec = sends(accepted("t-1"), finished(TaskState.TIMED_OUT, null, "timed out after 5000 ms"));
        r = meshctl("exec", "web-1", "--timeout", "5s", "--", "sleep", "600");
        assertEquals(r.toString(), 124, r.code);
        assertEquals("meshctl: task t-1 timed out: timed out after 5000 ms\n", r.err);
    }

    @Test
    public void failedWithoutExitCodeExits1WithTheDiagnostic() {
        hub.exec = sends(accepted("t-1"), finished(TaskState.FAILED, null, "cannot start 'nope': no such file"));
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "nope");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: cannot start 'nope': no such file\n", r.err);
    }

    @Test
    public void streamEndingWithoutTheResultExitsOutputIncomplete() {
        hub.exec = sends(accepted("t-9"));
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "true");
        assertEquals(r.toString(), ExecCommand.EXIT_OUTPUT_INCOMPLETE, r.code);
        assertEquals("meshctl: the hub ended the exec without the task's result; see 'meshctl task t-9 --output'\n", r.err);
    }

    @Test
    public void fewerBytesThanTheHubDeliveredExitsOutputIncompleteAfterTheRemoteStatus() {
        hub.exec = sends(accepted("t-8"), output(TaskOutput.Stream.STDOUT, "abc"),
                finished(TaskState.SUCCEEDED, 0, "").toBuilder().setFinished(
                        finished(TaskState.SUCCEEDED, 0, "").getFinished().toBuilder().setTaskId("t-8").setOutputBytes(10)).build());
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "true");
        assertEquals(r.toString(), ExecCommand.EXIT_OUTPUT_INCOMPLETE, r.code);
        assertEquals("abc", r.out);
        assertEquals("meshctl: only 3 of the 10 bytes of output of task t-8 arrived here; its whole output is on the hub:"
                + " 'meshctl task t-8 --output'\n", r.err);
    }

    @Test
    public void aDetachedCallSaysWhyAndExitsOutputIncomplete() {
        hub.exec = (request, events) -> {
            events.onNext(accepted("t-4"));
            events.onNext(output(TaskOutput.Stream.STDOUT, "some"));
            events.onError(Status.DEADLINE_EXCEEDED.withDescription("this exec call was detached: it took none of the output"
                    + " for 60 s").asRuntimeException());
        };
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "cat", "big.log");
        assertEquals(r.toString(), ExecCommand.EXIT_OUTPUT_INCOMPLETE, r.code);
        assertEquals("some", r.out);
        assertEquals("meshctl: this exec call was detached: it took none of the output for 60 s; task t-4 may still be running;"
                + " 4 bytes of its output arrived here, its whole output is on the hub: 'meshctl task t-4 --output --offset 4"
                + " --follow'\n", r.err);
    }

    @Test
    public void allBytesTheHubDeliveredExitWithTheRemoteCode() {
        hub.exec = sends(accepted("t-7"), output(TaskOutput.Stream.STDOUT, "abc"), output(TaskOutput.Stream.STDERR, "de"),
                finished(TaskState.FAILED, 3, "").toBuilder().setFinished(
                        finished(TaskState.FAILED, 3, "").getFinished().toBuilder().setOutputBytes(5)).build());
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "false");
        assertEquals(r.toString(), 3, r.code);
    }

    @Test
    public void cancelOnDetachIsSentWithTheRequest() throws Exception {
        hub.exec = sends(accepted("t-6"), finished(TaskState.SUCCEEDED, 0, ""));
        meshctl("exec", "--cancel-on-detach", "web-1", "--", "true");
        ExecRequest request = (ExecRequest) hub.requests.poll(5, TimeUnit.SECONDS);
        assertTrue(request.getCancelOnDetach());
        hub.requests.clear();
        meshctl("exec", "web-1", "--", "true");
        assertFalse(((ExecRequest) hub.requests.poll(5, TimeUnit.SECONDS)).getCancelOnDetach());
    }

    @Test
    public void hubFailingMidStreamNamesTheTaskThatMayStillRunAndWhereItsOutputIs() {
        hub.exec = (request, events) -> {
            events.onNext(accepted("t-5"));
            events.onNext(output(TaskOutput.Stream.STDOUT, "half"));
            events.onError(Status.UNAVAILABLE.withDescription("hub stopping").asRuntimeException());
        };
        MeshCtlLoopbackTest.Result r = meshctl("exec", "web-1", "--", "make");
        assertEquals(r.toString(), ExecCommand.EXIT_OUTPUT_INCOMPLETE, r.code);
        assertEquals("half", r.out);
        assertEquals("meshctl: the hub's admin API at " + hub.address() + " is unavailable: hub stopping;"
                + " task t-5 may still be running; 4 bytes of its output arrived here, its whole output is on the hub:"
                + " 'meshctl task t-5 --output --offset 4 --follow'\n", r.err);
    }

    @Test
    public void interruptCancelsTheTaskThenTheCallAndExits130() throws Exception {
        hub.tasks.add(TaskInfo.newBuilder().setTaskId("t-1").setState(TaskState.RUNNING).build());
        hub.exec = (request, events) -> {
            events.onNext(accepted("t-1"));
            events.onNext(output(TaskOutput.Stream.STDOUT, "started\n"));
            if (!hub.execEnded.await(WAIT_MS, TimeUnit.MILLISECONDS)) {
                events.onNext(finished(TaskState.SUCCEEDED, 0, ""));
                events.onCompleted();
            }
        };
        ManualInterrupts interrupts = new ManualInterrupts();
        Future<MeshCtlLoopbackTest.Result> run = background.submit(
                () -> meshctl(interrupts, "exec", "web-1", "--", "tail", "-f", "/var/log/syslog"));
        assertTrue("output before the interrupt", stdout.awaitContains("started\n", WAIT_MS));

        Thread hook = interrupts.fire();
        MeshCtlLoopbackTest.Result r = run.get(WAIT_MS, TimeUnit.MILLISECONDS);
        hook.join(WAIT_MS);
        assertFalse("the interrupt action returns once exec has ended", hook.isAlive());
        assertTrue("the hub saw the call cancelled", hub.execCancelled.await(WAIT_MS, TimeUnit.MILLISECONDS));
        boolean cancelSent = false;
        for (Object request : hub.requests) {
            cancelSent |= request instanceof CancelTaskRequest c && c.getTaskId().equals("t-1");
        }
        assertTrue("the task itself was cancelled (the call going away alone leaves it running)", cancelSent);
        assertEquals(r.toString(), 130, r.code);
        assertEquals("started\n", r.out);
        assertEquals("meshctl: interrupted; cancelling task t-1\n", r.err);
    }

    @Test
    public void longQuietTasksAreNotCutByADeadline() throws Exception {
        // The admin calls' 10 s deadline must not apply to Exec: the task's own timeout bounds it.
        // Instead of waiting 10 s, check that the call carries no deadline at all.
        CountDownLatch checked = new CountDownLatch(1);
        hub.exec = (request, events) -> {
            if (io.grpc.Context.current().getDeadline() == null) {
                checked.countDown();
            }
            events.onNext(finished(TaskState.SUCCEEDED, 0, ""));
            events.onCompleted();
        };
        assertEquals(0, meshctl("exec", "web-1", "--", "true").code);
        assertTrue("Exec was called with a deadline", checked.await(0, TimeUnit.SECONDS));
    }

    @Test
    public void unreachableHubFailsFastWithTheCannotReachMessage() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        MeshCtlLoopbackTest.Result r = meshctl("exec", "--hub", "127.0.0.1:" + port, "web-1", "--", "true");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: cannot reach the hub's admin API at 127.0.0.1:" + port + " (is the hub running?)\n",
                r.err);
    }

    @Test
    public void refusedTokenIsTheUsualOneLine() throws IOException {
        Path wrong = tmp.newFile("wrong.token").toPath();
        Files.writeString(wrong, "not-the-admin-token\n");
        MeshCtlLoopbackTest.Result r = meshctl("exec", "--token-file", wrong.toString(), "web-1", "--", "true");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: the hub refused the admin token (admin token does not match); check " + wrong + "\n",
                r.err);
    }

    @Test
    public void usageErrorsExit2WithoutCallingTheHub() {
        for (String[] args : new String[][] {
                {"exec"},
                {"exec", "web-1"},
                {"exec", "web-1", "--"},
                {"exec", "web-1", "ls", "/tmp"},
                {"exec", "web-1", "ls", "--", "-la"},
                {"exec", "web-1", "--shell", "ls", "--", "ls"},
                {"exec", "web-1", "--shell", " "},
                {"exec", "web-1", "--env", "NOEQUALS", "--", "env"},
                {"exec", "web-1", "--env", "=x", "--", "env"},
                {"exec", "web-1", "--timeout", "10", "--", "true"},
                {"exec", "web-1", "--timeout", "50d", "--", "true"},
                {"exec", "web-1", "--", ""},
                {"exec", "web-1", "--bogus", "--", "true"}}) {
            stdout.bytes.reset();
            stderr.bytes.reset();
            MeshCtlLoopbackTest.Result r = meshctl(args);
            assertEquals(String.join(" ", args) + ": " + r, 2, r.code);
            assertTrue(r.err, r.err.startsWith("meshctl: "));
            assertEquals(r.toString(), 1, r.err.split("\n", -1).length - 1);
            assertEquals("", r.out);
        }
        assertTrue(hub.authorizationHeaders.isEmpty());
        assertTrue(hub.requests.isEmpty());
    }
}
