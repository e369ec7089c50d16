package dev.meshhub.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import dev.meshhub.proto.v1.SyncEvent;
import dev.meshhub.proto.v1.SyncFinished;
import dev.meshhub.proto.v1.SyncProgress;
import dev.meshhub.proto.v1.SyncPullRequest;
import dev.meshhub.proto.v1.SyncPushRequest;
import dev.meshhub.proto.v1.SyncStarted;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code meshctl sync pull} and {@code meshctl sync push} against {@link FakeAdminHub} on 127.0.0.1. */
public class MeshCtlSyncLoopbackTest {

    private static final long WAIT_MS = 10_000;
    private static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private FakeAdminHub hub;
    private final Map<String, String> env = new HashMap<>();
    private final ExecutorService background = Executors.newCachedThreadPool();

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

    private MeshCtlLoopbackTest.Result meshctl(Interrupts interrupts, String... args) {
        return MeshCtlLoopbackTest.Result.of(env, interrupts, Clock.systemUTC(), args);
    }

    private MeshCtlLoopbackTest.Result meshctl(String... args) {
        return meshctl(Interrupts.NONE, args);
    }


    static SyncEvent started(String id, long resumedFrom, long total) {
        return SyncEvent.newBuilder().setStarted(SyncStarted.newBuilder().setSyncId(id).setNodeId("n-0000000000a1")
                .setResumedFrom(resumedFrom).setTotalSize(total)).build();
    }

    static SyncEvent progress(long bytes, long total) {
        return SyncEvent.newBuilder().setProgress(SyncProgress.newBuilder().setBytes(bytes).setTotalSize(total)).build();
    }

    static SyncEvent finished(String file, long size, long transferred) {
        return SyncEvent.newBuilder().setFinished(SyncFinished.newBuilder().setMirrorFile(file).setSize(size)
                .setSha256(SHA).setTransferred(transferred)).build();
    }

    private Path localFile(String name, String content) throws IOException {
        Path file = tmp.getRoot().toPath().resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    // ---- pull ----

    @Test
    public void pullShowsTheStartAndPrintsTheResultAndTheMirrorFile() throws Exception {
        hub.syncPull = (request, events) -> {
            events.onNext(started("s-1", 512, 3 * 1024 * 1024));
            events.onNext(progress(1024 * 1024, 3 * 1024 * 1024));
            events.onNext(finished("/hub/data/mirror/n-0000000000a1/logs/app.log", 3 * 1024 * 1024,
                    3 * 1024 * 1024 - 512));
            events.onCompleted();
        };
        MeshCtlLoopbackTest.Result r = meshctl("sync", "pull", "web-1", "logs/app.log", "--plain");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("pulled logs/app.log from web-1: 3.0 MiB (512 B resumed), sha256 " + SHA + "\n"
                + "/hub/data/mirror/n-0000000000a1/logs/app.log\n", r.out);
        assertEquals("pull web-1:logs/app.log: resuming at 512 B of 3.0 MiB\n", r.err);
        SyncPullRequest request = hub.awaitRequest(SyncPullRequest.class);
        assertEquals("web-1", request.getNode());
        assertEquals("logs/app.log", request.getPath());
    }

    @Test
    public void aPullTheHubRefusesPrintsItsMessageAndExits1() {
        hub.syncPull = (request, events) -> events.onError(Status.FAILED_PRECONDITION
                .withDescription("node web-1 is not connected; see 'meshctl nodes'").asRuntimeException());
        MeshCtlLoopbackTest.Result r = meshctl("sync", "pull", "web-1", "logs/app.log");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("", r.out);
        assertEquals("meshctl: node web-1 is not connected; see 'meshctl nodes'\n", r.err);
    }

    // ---- push ----

    @Test
    public void pushSendsTheAbsoluteLocalPathAndPrintsSizeDigestAndTask() throws Exception {
        Path file = localFile("build/app.cfg", "key=value\n");
        hub.syncPush = (request, events) -> {
            events.onNext(started("t-42", 0, 10));
            events.onNext(progress(10, 10));
            events.onNext(finished("conf/app.cfg", 10, 10));
            events.onCompleted();
        };
        String local = tmp.getRoot() + "/build/../build/./app.cfg";
        MeshCtlLoopbackTest.Result r = meshctl("sync", "push", "web-1", local, "./conf/app.cfg", "--plain");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("pushed " + local + " to web-1:conf/app.cfg: 10 B, sha256 " + SHA + " (task t-42)\n", r.out);
        assertEquals("push " + local + " to web-1:./conf/app.cfg: starting, 10 B\n", r.err);
        SyncPushRequest request = hub.awaitRequest(SyncPushRequest.class);
        assertEquals("web-1", request.getNode());
        assertEquals("the hub gets the normalised absolute path", file.toString(), request.getSource());
        assertEquals("./conf/app.cfg", request.getPath());
    }

    @Test
    public void aRelativeLocalPathIsResolvedAgainstTheWorkingDirectory() throws Exception {
        hub.syncPush = (request, events) -> {
            events.onNext(started("t-7", 0, 1));
            events.onNext(finished("", 1, 1));
            events.onCompleted();
        };
        // Tests run in the module's directory, which holds pom.xml.
        MeshCtlLoopbackTest.Result r = meshctl("sync", "push", "web-1", "pom.xml", "pom.xml");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("pushed pom.xml to web-1:pom.xml: 1 B, sha256 " + SHA + " (task t-7)\n", r.out);
        assertEquals(Path.of("pom.xml").toAbsolutePath().normalize().toString(),
                hub.awaitRequest(SyncPushRequest.class).getSource());
    }

    @Test
    public void aMirrorSourceIsPassedThroughUnchecked() throws Exception {
        hub.syncPush = (request, events) -> {
            events.onNext(started("t-8", 0, 2048));
            events.onNext(finished("conf/app.cfg", 2048, 2048));
            events.onCompleted();
        };
        MeshCtlLoopbackTest.Result r = meshctl("sync", "push", "web-2", "mirror:web-1/conf/app.cfg", "conf/app.cfg");
        assertEquals(r.toString(), 0, r.code);
        assertEquals("pushed mirror:web-1/conf/app.cfg to web-2:conf/app.cfg: 2.0 KiB, sha256 " + SHA + " (task t-8)\n",
                r.out);
        assertEquals("mirror:web-1/conf/app.cfg", hub.awaitRequest(SyncPushRequest.class).getSource());
    }

    @Test
    public void aLocalFileThatIsMissingOrADirectoryFailsBeforeCallingTheHub() throws Exception {
        Path missing = tmp.getRoot().toPath().resolve("nope.cfg");
        MeshCtlLoopbackTest.Result r = meshctl("sync", "push", "web-1", missing.toString(), "conf/app.cfg");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("", r.out);
        assertEquals("meshctl: " + missing + " is not a readable file\n", r.err);

        Path dir = tmp.newFolder("a-dir").toPath();
        r = meshctl("sync", "push", "web-1", dir + "/", "conf/app.cfg");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: " + dir + "/ is not a readable file (" + dir + ")\n", r.err);

        r = meshctl("sync", "push", "web-1", "no-such-file-here", "x");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("meshctl: no-such-file-here is not a readable file ("
                + Path.of("no-such-file-here").toAbsolutePath() + ")\n", r.err);
        assertTrue("the hub was never called", hub.authorizationHeaders.isEmpty());
    }

    @Test
    public void aPushThatFailsOnTheNodePrintsTheHubsMessageAfterTheProgressAndExits1() throws Exception {
        Path file = localFile("app.bin", "0123456789");
        hub.syncPush = (request, events) -> {
            events.onNext(started("t-9", 0, 10));
            events.onError(Status.ABORTED.withDescription("task t-9 FAILED on node web-1: checksum mismatch: expected"
                    + " sha256 aa, received data has sha256 bb; conf/app.bin left unchanged").asRuntimeException());
        };
        MeshCtlLoopbackTest.Result r = meshctl("sync", "push", "web-1", file.toString(), "conf/app.bin", "--plain");
        assertEquals(r.toString(), 1, r.code);
        assertEquals("", r.out);
        assertEquals("push " + file + " to web-1:conf/app.bin: starting, 10 B\n"
                + "meshctl: task t-9 FAILED on node web-1: checksum mismatch: expected sha256 aa, received data has"
                + " sha256 bb; conf/app.bin left unchanged\n", r.err);
    }

    @Test
    public void aPushTheHubEndsWithoutAResultExits1() throws Exception {
        Path file = localFile("app.bin", "x");
        hub.syncPush = (request, events) -> {
            events.onNext(started("t-10", 0, 1));
            events.onCompleted();
        };
        MeshCtlLoopbackTest.Result r = meshctl("sync", "push", "web-1", file.toString(), "x");
        assertEquals(r.toString(), 1, r.code);
        assertTrue(r.err, r.err.endsWith("meshctl: the hub ended the push without a result\n"));
    }

    @Test
    public void anInterruptCancelsThePushCallAndExits130() throws Exception {
        Path file = localFile("big.bin", "x".repeat(1000));
        hub.syncPush = (request, events) -> {
            events.onNext(started("t-11", 0, 1000));
            events.onNext(progress(100, 1000));
            hub.syncCancelled.await(WAIT_MS, TimeUnit.MILLISECONDS);
        };
        MeshCtlExecLoopbackTest.ManualInterrupts interrupts = new MeshCtlExecLoopbackTest.ManualInterrupts();
        MeshCtlExecLoopbackTest.Watched err = new MeshCtlExecLoopbackTest.Watched();
        Future<Integer> run = background.submit(() -> MeshCtl.run(
                new String[] {"sync", "push", "web-1", file.toString(), "big.bin", "--plain"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), env, k -> null, interrupts));
        assertTrue("the start before the interrupt", err.awaitContains("starting, 1000 B\n", WAIT_MS));

        Thread hook = interrupts.fire();
        int code = run.get(WAIT_MS, TimeUnit.MILLISECONDS);
        hook.join(WAIT_MS);
        assertFalse("the interrupt action returns once push has ended", hook.isAlive());
        assertTrue("the hub saw the call cancelled", hub.syncCancelled.await(WAIT_MS, TimeUnit.MILLISECONDS));
        assertEquals(err.text(), 130, code);
        assertEquals("push " + file + " to web-1:big.bin: starting, 1000 B\n"
                + "meshctl: interrupted; cancelling task t-11 (see 'meshctl task t-11')\n", err.text());
    }

    @Test
    public void usageErrorsExit2WithoutCallingTheHub() {
        for (String[] args : new String[][] {{"sync"}, {"sync", "frob"}, {"sync", "push", "web-1", "x"},
                {"sync", "push", "web-1"}, {"sync", "push", "web-1", "a", "b", "c"}, {"sync", "pull", "web-1"}}) {
            MeshCtlLoopbackTest.Result r = meshctl(args);
            assertEquals(String.join(" ", args) + ": " + r, 2, r.code);
            assertTrue(r.err, r.err.startsWith("meshctl: "));
            assertEquals("", r.out);
        }
        assertTrue(hub.authorizationHeaders.isEmpty());
    }
}
