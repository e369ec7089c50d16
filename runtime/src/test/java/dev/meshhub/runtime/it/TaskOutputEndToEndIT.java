package dev.meshhub.runtime.it;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.Rule;
import org.junit.Test;

import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.TaskInfo;
import dev.meshhub.proto.v1.TaskState;

/**
 * Task output at any size through a real hub, real node agents and meshctl: every byte arrives at the
 * pace of the slowest reader, a slow reader never holds up another task on the same node, and a caller
 * that goes away leaves the task running (with the hub's default stall limit of 60 s, which a 1 KB/s
 * reader never reaches). Callers that stop reading: {@link TaskOutputDetachEndToEndIT}.
 */
public class TaskOutputEndToEndIT {

    private static final Duration PATIENCE = RuntimeUnderTest.PATIENCE;

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest();

    @Test
    public void hundredsOfMegabytesArriveWholeThroughAPipe() throws Exception {
        runtime.permissiveNode("bulk");
        long size = 256L * 1024 * 1024;
        RuntimeUnderTest.Result digest = runtime.shell("meshctl exec bulk -- sh -c 'head -c " + size + " /dev/zero' | sha256sum", 600);
        digest.assertExit(0);
        assertEquals(zerosDigest(size) + "  -\n", digest.stdout());

        // After the fact, the whole output again, from the hub's log.
        String taskId = runtime.latestTask("bulk").getTaskId();
        RuntimeUnderTest.Result again = runtime.shell("meshctl task " + taskId + " --output | sha256sum", 600);
        again.assertExit(0);
        assertEquals(zerosDigest(size) + "  -\n", again.stdout());
    }

    @Test
    public void twoFollowersEachGetEveryByteOfARunningTaskAndItsStreamsApart() throws Exception {
        runtime.permissiveNode("followed");
        Process exec = runtime.meshctlInBackground("followed-exec", "exec", "followed", "--", "sh", "-c",
                "for i in 1 2 3 4 5 6; do echo out $i; echo err $i >&2; sleep 0.5; done");
        TaskInfo task = runtime.runningTask("followed");
        Process first = runtime.meshctlInBackground("follow-1", "task", task.getTaskId(), "--output", "--follow");
        Process second = runtime.meshctlInBackground("follow-2", "task", task.getTaskId(), "--output", "--follow");
        assertTrue(first.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertTrue(second.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertTrue(exec.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        String outs = "out 1\nout 2\nout 3\nout 4\nout 5\nout 6\n";
        String errs = "err 1\nerr 2\nerr 3\nerr 4\nerr 5\nerr 6\n";
        for (String follower : new String[] {"follow-1", "follow-2"}) {
            assertEquals(runtime.log(follower + ".err"), outs, runtime.log(follower + ".out"));
            assertEquals(errs, runtime.log(follower + ".err"));
        }
        assertEquals(0, first.exitValue());
        assertEquals(outs, runtime.log("followed-exec.out"));

        RuntimeUnderTest.Result stderrOnly = runtime.meshctl("task", task.getTaskId(), "--output", "--stderr-only");
        stderrOnly.assertExit(0);
        assertEquals(errs, stderrOnly.stdout());
        RuntimeUnderTest.Result fromOffset = runtime.meshctl("task", task.getTaskId(), "--output", "--offset", "12");
        fromOffset.assertExit(0);
        assertEquals("both streams count toward the offset", outs.length() + errs.length() - 12,
                fromOffset.stdout().length() + fromOffset.stderr().length());

        RuntimeUnderTest.Result unknown = runtime.meshctl("task", "t-0000000000000000", "--output");
        assertEquals(1, unknown.exit());
        assertTrue(unknown.stderr(), unknown.stderr().contains("the hub holds no output log of task 't-0000000000000000'"));
    }

    @Test
    public void aNodeKilledMidOutputLeavesALogThatEndsWithTheDisconnect() throws Exception {
        Process node = runtime.enrolledNode("doomed");
        runtime.meshctl("policy", "set", "doomed", "permissive", "--yes").assertExit(0);
        Process exec = runtime.meshctlPiped("doomed-exec", "exec", "doomed", "--", "sh", "-c", "seq 1 100000000");
        exec.getInputStream().readNBytes(200_000);
        TaskInfo task = runtime.runningTask("doomed");
        node.destroyForcibly().waitFor();
        Poll.until("the task failed with its node", PATIENCE, () -> runtime.taskState(task.getTaskId()) == TaskState.FAILED);
        exec.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        assertTrue(exec.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));

        java.nio.file.Path log = logFile(task.getTaskId());
        Poll.until("the log ended", PATIENCE, () -> {
            try {
                return new String(java.nio.file.Files.readAllBytes(log), StandardCharsets.ISO_8859_1).contains("ending=FAILED");
            } catch (java.io.IOException e) {
                return false;
            }
        });
        String tail = new String(java.nio.file.Files.readAllBytes(log), StandardCharsets.ISO_8859_1);
        tail = tail.substring(tail.lastIndexOf("ending="));
        assertTrue(tail, tail.contains("disconnected") && tail.contains("last heartbeat"));
        RuntimeUnderTest.Result output = runtime.meshctl("task", task.getTaskId(), "--output");
        output.assertExit(0);
        assertTrue("the output up to the disconnect: " + output.stdout().length(), output.stdout().startsWith("1\n2\n3\n"));
    }

    @Test
    public void aSlowReaderGetsEveryByteWhileAnotherTaskOnTheNodeRunsToItsEnd() throws Exception {
        runtime.permissiveNode("shared");
        // 21 MB: far more than every buffer between the node and this reader holds (the hub's window, gRPC's, the pipes).
        int lines = 3_000_000;
        Process slow = runtime.meshctlPiped("slow", "exec", "shared", "--", "seq", "1", String.valueOf(lines));
        // About 1 KB/s until the other task is done: the slow task's output waits on the node, not in the hub.
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        java.util.concurrent.atomic.AtomicBoolean hurry = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CompletableFuture<Void> reader = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try (InputStream in = slow.getInputStream()) {
                byte[] sip = new byte[100];
                while (!hurry.get()) {
                    int n = in.read(sip);
                    if (n < 0) {
                        return;
                    }
                    got.write(sip, 0, n);
                    Thread.sleep(100);
                }
                in.transferTo(got);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        TaskInfo slowTask = runtime.runningTask("shared");

        RuntimeUnderTest.Result other = runtime.shell("meshctl exec shared -- sh -c 'head -c 50000000 /dev/zero' | wc -c", 300);
        other.assertExit(0);
        assertEquals("50000000", other.stdout().strip());
        assertEquals("the slow reader's task still waits for its reader", TaskState.RUNNING, runtime.task(slowTask.getTaskId()).getState());
        assertTrue("the slow reader had only part of it: " + got.size(), got.size() < 1_000_000);

        hurry.set(true);
        reader.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertTrue(slow.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(runtime.log("slow.err"), 0, slow.exitValue());
        String expected = IntStream.rangeClosed(1, lines).mapToObj(Integer::toString).collect(Collectors.joining("\n", "", "\n"));
        assertArrayEquals("every byte, in order", expected.getBytes(StandardCharsets.US_ASCII), got.toByteArray());
    }

    @Test
    public void aCallerKilledMidStreamLeavesTheTaskRunningToItsEnd() throws Exception {
        runtime.permissiveNode("orphan");
        Process caller = runtime.meshctlPiped("orphan-exec", "exec", "orphan", "--", "sh", "-c", "head -c 30000000 /dev/zero");
        caller.getInputStream().readNBytes(100_000);
        TaskInfo task = runtime.runningTask("orphan");
        caller.destroyForcibly().waitFor();
        Poll.until("the task ran to its end without its caller", PATIENCE, () -> runtime.taskState(task.getTaskId()) == TaskState.SUCCEEDED);
        RuntimeUnderTest.Result count = runtime.shell("meshctl task " + task.getTaskId() + " --output | wc -c", 120);
        count.assertExit(0);
        assertEquals("its log holds every byte", "30000000", count.stdout().strip());
    }

    /** The log file of a task, as docs/task-logs.md lays them out. */
    private java.nio.file.Path logFile(String taskId) {
        return runtime.home.resolve("data/logs").resolve(taskId.substring(2, 4)).resolve(taskId + ".log");
    }

    private static String zerosDigest(long size) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] zeros = new byte[1 << 20];
        for (long left = size; left > 0; left -= zeros.length) {
            sha.update(zeros, 0, (int) Math.min(zeros.length, left));
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
