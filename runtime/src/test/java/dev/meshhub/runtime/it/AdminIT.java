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
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;

import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;
import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.ArgvCommand;
import dev.meshhub.proto.v1.CommandTask;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.ExecEvent;
import dev.meshhub.proto.v1.ExecRequest;
import dev.meshhub.proto.v1.GetTaskRequest;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.ListTasksRequest;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.TaskFinished;
import dev.meshhub.proto.v1.TaskStarted;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;

/**
 * The admin API as its own bundle: stopped, updated and reconfigured while nodes stay connected and
 * tasks run on.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class AdminIT extends HubTestBase {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @Inject
    private TaskJournal journal;

    @Configuration
    public Option[] config() {
        return HubTestSupport.hubOptions("AdminIT", Map.of(), "meshhub");
    }

    private Bundle adminBundle() {
        for (Bundle bundle : context.getBundles()) {
            if ("dev.meshhub.admin".equals(bundle.getSymbolicName())) {
                return bundle;
            }
        }
        throw new AssertionError("no dev.meshhub.admin bundle");
    }

    /** A node that says Hello and keeps heartbeating; listed before this returns. */
    private TestStream connectedNode(String name) throws Exception {
        TestNode enrolled = hub.enroll(name);
        TestStream stream = enrolled.stream().hello().keepAlive();
        Poll.until(name + " listed", PATIENCE, () -> directory.session(enrolled.getNodeId()).isPresent());
        return stream;
    }

    private static HubMessage nextTask(TestStream stream) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            HubMessage message = stream.next(1);
            if (message != null && message.hasTask()) {
                return message;
            }
        }
        throw new AssertionError("the node was sent no task");
    }

    private AdminServiceGrpc.AdminServiceStub asyncAdmin(ManagedChannel channel) throws Exception {
        Metadata headers = new Metadata();
        headers.put(WireHeaders.AUTHORIZATION, WireHeaders.BEARER + hub.adminToken());
        return AdminServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    @Test
    public void stoppingTheAdminApiEndsAnOpenExecClearlyWhileTheTaskRunsOnAndNodesStayConnected() throws Exception {
        TestStream node = connectedNode("admin-stop");
        BlockingQueue<ExecEvent> events = new LinkedBlockingQueue<>();
        CompletableFuture<Status> execEnded = new CompletableFuture<>();
        asyncAdmin(hub.adminChannel).exec(ExecRequest.newBuilder().setNode("admin-stop")
                .setCommand(CommandTask.newBuilder().setArgv(ArgvCommand.newBuilder().addArgs("sleep").addArgs("60"))).build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(ExecEvent value) {
                        events.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        execEnded.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        execEnded.complete(Status.OK);
                    }
                });
        String taskId = nextTask(node).getTask().getTaskId();
        node.send(NodeMessage.newBuilder().setTaskStarted(TaskStarted.newBuilder().setTaskId(taskId).setPid(4242)).build());
        ExecEvent accepted = events.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertNotNull("the exec call was accepted", accepted);
        assertEquals(taskId, accepted.getAccepted().getTaskId());

        Bundle admin = adminBundle();
        admin.stop();
        try {
            Status ended = execEnded.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertEquals(ended.toString(), Status.Code.UNAVAILABLE, ended.getCode());
            assertTrue(ended.getDescription(), ended.getDescription().contains("admin API is stopping")
                    && ended.getDescription().contains("task " + taskId + " keeps running")
                    && ended.getDescription().contains("meshctl task " + taskId));
            assertFalse("the admin port is closed", HubClient.listens(hub.adminPort));

            // The node and its task are untouched: no cancel was sent, the stream is open, the task ends normally.
            assertFalse("the node's stream is still open", node.ended.isDone());
            node.send(NodeMessage.newBuilder().setTaskFinished(TaskFinished.newBuilder().setTaskId(taskId)
                    .setOutcome(TaskFinished.Outcome.SUCCEEDED).setExitCode(0)).build());
            Poll.until("the task journaled as SUCCEEDED", PATIENCE, () -> journal.get(taskId).toCompletableFuture()
                    .join().map(TaskRecord::state).orElse(null) == TaskState.SUCCEEDED);
            for (HubMessage message : node.received) {
                assertFalse("no cancel reached the node: " + message, message.hasCancelTask());
            }
            assertFalse(node.ended.isDone());
        } finally {
            admin.start();
        }
        Poll.until("the admin API back", PATIENCE, () -> HubClient.listens(hub.adminPort));
        assertEquals(dev.meshhub.proto.v1.TaskState.SUCCEEDED,
                hub.admin().getTask(GetTaskRequest.newBuilder().setTaskId(taskId).build()).getState());
        node.close();
    }

    @Test
    public void updatingTheAdminBundleWithTwentyCallsInFlightGivesEachAnAnswerOrAClearRefusal() throws Exception {
        TestStream node = connectedNode("admin-update");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicBoolean updated = new AtomicBoolean();
        AtomicInteger answered = new AtomicInteger();
        AtomicInteger answeredAfterUpdate = new AtomicInteger();
        Set<String> refusals = ConcurrentHashMap.newKeySet();
        List<String> wrong = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService callers = Executors.newFixedThreadPool(20);
        CountDownLatch running = new CountDownLatch(20);
        for (int i = 0; i < 20; i++) {
            int caller = i;
            callers.execute(() -> {
                running.countDown();
                while (!stop.get()) {
                    try {
                        AdminServiceGrpc.AdminServiceBlockingStub admin = hub.admin();
                        switch (caller % 3) {
                            case 0 -> admin.listNodes(ListNodesRequest.getDefaultInstance());
                            case 1 -> admin.listTasks(ListTasksRequest.getDefaultInstance());
                            default -> admin.createInvite(CreateInviteRequest.newBuilder().setNote("in flight").build());
                        }
                        answered.incrementAndGet();
                        if (updated.get()) {
                            answeredAfterUpdate.incrementAndGet();
                        }
                    } catch (StatusRuntimeException e) {
                        if (e.getStatus().getCode() == Status.Code.UNAVAILABLE || racedTheGoAway(e.getStatus())) {
                            refusals.add(e.getStatus().getCode() + ": " + e.getStatus().getDescription());
                        } else {
                            wrong.add(e.getStatus().toString());
                        }
                    } catch (Exception e) {
                        wrong.add(e.toString());
                    }
                }
            });
        }
        running.await();
        Poll.until("calls answered before the update", PATIENCE, () -> answered.get() >= 40);
        adminBundle().update();
        updated.set(true);
        Poll.until("calls answered by the updated bundle", PATIENCE, () -> answeredAfterUpdate.get() >= 40);
        stop.set(true);
        callers.shutdown();
        assertTrue(callers.awaitTermination(30, TimeUnit.SECONDS));

        System.out.printf("meshhub it: admin update under 20 callers: %d answered, refusals seen: %s%n", answered.get(), refusals);
        assertEquals("every call got an answer or UNAVAILABLE: " + wrong, List.of(), wrong);
        assertFalse("the node's stream survived the admin update", node.ended.isDone());
        assertEquals(Bundle.ACTIVE, adminBundle().getState());
        Poll.until("the old admin threads gone", PATIENCE, () -> adminThreads() <= 2);
        node.close();
    }

    @Test
    public void theAdminPortMovesLiveAndABadValueIsRefusedKeepingTheRunningOne() throws Exception {
        TestStream node = connectedNode("admin-move");
        Path cfg = hub.home.resolve("etc/dev.meshhub.admin.cfg");
        String original = Files.readString(cfg);
        int moved = HubTestSupport.freePort();
        try {
            HubTestSupport.writeConfig(cfg, "port = " + moved + "\n");
            Poll.until("the admin API on port " + moved, PATIENCE, () -> HubClient.listens(moved) && !HubClient.listens(hub.adminPort));
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", moved).usePlaintext().build();
            try {
                Metadata headers = new Metadata();
                headers.put(WireHeaders.AUTHORIZATION, WireHeaders.BEARER + hub.adminToken());
                AdminServiceGrpc.AdminServiceBlockingStub admin = AdminServiceGrpc.newBlockingStub(channel)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).withDeadlineAfter(10, TimeUnit.SECONDS);
                assertTrue(admin.listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .anyMatch(n -> n.getName().equals("admin-move")));

                // Out of range: refused, with the key named in the log; the API stays where it is.
                HubTestSupport.writeConfig(cfg, "port = 70000\nthreads = 3\n");
                Poll.until("the refused configuration delivered", PATIENCE, () -> "70000".equals(
                        String.valueOf(HubTestSupport.componentProperty(context, "dev.meshhub.admin.impl.AdminServer", "port"))));
                assertTrue(HubClient.listens(moved));
                assertTrue(admin.listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .anyMatch(n -> n.getName().equals("admin-move")));
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } finally {
            HubTestSupport.writeConfig(cfg, original);
        }
        Poll.until("the admin API back on its port", PATIENCE, () -> HubClient.listens(hub.adminPort) && !HubClient.listens(moved));
        assertFalse("the node never noticed", node.ended.isDone());
        node.close();
    }

    @Test
    public void beyondLoopbackTheAdminApiSpeaksTlsWithTheHubsCertificateOnly() throws Exception {
        Path cfg = hub.home.resolve("etc/dev.meshhub.admin.cfg");
        String original = Files.readString(cfg);
        int port = HubTestSupport.freePort();
        try {
            HubTestSupport.writeConfig(cfg, "port = " + port + "\nbindAddress = 0.0.0.0\n");
            Poll.until("the admin API on port " + port, PATIENCE, () -> HubClient.listens(port) && !HubClient.listens(hub.adminPort));
            Metadata headers = new Metadata();
            headers.put(WireHeaders.AUTHORIZATION, WireHeaders.BEARER + hub.adminToken());
            ManagedChannel plaintext = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            try {
                StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> AdminServiceGrpc.newBlockingStub(plaintext)
                        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .listNodes(ListNodesRequest.getDefaultInstance()));
                assertEquals("a plaintext client (and its token) gets nowhere", Status.Code.UNAVAILABLE, refused.getStatus().getCode());
            } finally {
                plaintext.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
            var trust = dev.meshhub.proto.v1.HubTrust.pinned(context.getService(context.getServiceReference(dev.meshhub.api.pki.HubPki.class)).caPin());
            ManagedChannel tls = NettyChannelBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", port),
                    io.grpc.TlsChannelCredentials.newBuilder().trustManager(trust).build()).build();
            try {
                AdminServiceGrpc.newBlockingStub(tls).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                        .withDeadlineAfter(10, TimeUnit.SECONDS).listNodes(ListNodesRequest.getDefaultInstance());
                assertTrue("TLS 1.3 with the hub's certificate, verified by the CA pin", trust.verifiedCa().isPresent());
            } finally {
                tls.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } finally {
            HubTestSupport.writeConfig(cfg, original);
        }
        Poll.until("the admin API back on its port", PATIENCE, () -> HubClient.listens(hub.adminPort) && !HubClient.listens(port));
    }

    /**
     * grpc-java's client reports a call whose request was still being written when the server's
     * GOAWAY arrived as INTERNAL "http2 exception" (Stream closed before write could take place):
     * the server never saw that call. Only that shape is let through; any status the server sends is
     * held to OK or UNAVAILABLE.
     */
    private static boolean racedTheGoAway(Status status) {
        return status.getCode() == Status.Code.INTERNAL && "http2 exception".equals(status.getDescription())
                && status.getCause() != null && String.valueOf(status.getCause().getMessage()).contains("Stream closed before write");
    }

    private static long adminThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("meshhub-grpc-admin")).count();
    }
}
