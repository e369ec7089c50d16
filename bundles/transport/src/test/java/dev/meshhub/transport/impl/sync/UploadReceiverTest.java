package dev.meshhub.transport.impl.sync;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Test;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;

import dev.meshhub.api.enrollment.EnrolledNode;
import dev.meshhub.api.sync.TransferException;
import dev.meshhub.api.sync.TransferHandle;
import dev.meshhub.api.sync.TransferResult;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.UploadChunk;
import dev.meshhub.proto.v1.UploadEnd;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import dev.meshhub.proto.v1.UploadStart;
import dev.meshhub.testing.MutableClock;
import dev.meshhub.testing.RecordingStreamObserver;
import dev.meshhub.transport.impl.FakeEnrollmentStore;
import dev.meshhub.transport.impl.dispatch.Dispatcher;
import dev.meshhub.transport.impl.session.NodeSessionHandle;
import dev.meshhub.transport.impl.session.NodeSessions;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/**
 * One node's Upload stream as the hub receives it: every message in and out, the mirror and the IO
 * lock it leaves behind, for each ending. Work runs on a direct executor, so each step is done when
 * the call returns.
 */
public class UploadReceiverTest {

    private static final String PEER = "10.0.0.1:4000";
    private static final Duration IDLE = Duration.ofSeconds(60);

    private final MutableClock clock = new MutableClock();
    private final NodeSessions sessions = new NodeSessions(clock, Duration.ofSeconds(5), Duration.ofSeconds(15), (topic, properties) -> {
    });
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
    private final MemoryMirror mirror = new MemoryMirror();
    private final MemoryLocks locks = new MemoryLocks();
    private final FakeEnrollmentStore store = new FakeEnrollmentStore();
    private final FileSyncService sync = new FileSyncService(sessions,
            new Dispatcher(sessions, timers, new dev.meshhub.transport.impl.dispatch.TaskLimits(Duration.ofMinutes(1), Duration.ofSeconds(1), 8)),
            MoreExecutors.newDirectExecutorService(), timers,
            new FileSyncService.SyncLimits(Duration.ofMinutes(5), Duration.ofSeconds(30), 2, 2, IDLE));
    private final EnrolledNode node = store.find("n-1").orElseThrow();

    {
        sync.bindMirrorStore(mirror);
        sync.bindLockRegistry(locks);
        sync.bindEnrollmentStore(store);
    }

    @After
    public void stopTimers() {
        timers.shutdownNow();
    }

    /** An Upload call: what the node sends in, what the hub answered. */
    private final class Call {
        final RecordingStreamObserver<UploadResponse> out = new RecordingStreamObserver<>();
        final StreamObserver<UploadRequest> in = sync.upload(node, PEER, out);

        Call start(String path, long size) {
            return start(path, size, "");
        }

        Call start(String path, long size, String syncId) {
            in.onNext(UploadRequest.newBuilder().setStart(UploadStart.newBuilder().setPath(path).setSize(size).setSyncId(syncId)).build());
            return this;
        }

        Call chunk(long offset, byte[] data) {
            in.onNext(UploadRequest.newBuilder().setChunk(UploadChunk.newBuilder().setOffset(offset).setData(ByteString.copyFrom(data))).build());
            return this;
        }

        Call end(byte[] whole) {
            return end(whole.length, MemoryMirror.sha256(whole));
        }

        Call end(long size, byte[] sha256) {
            in.onNext(UploadRequest.newBuilder().setEnd(UploadEnd.newBuilder().setTotalSize(size).setSha256(ByteString.copyFrom(sha256))).build());
            return this;
        }

        Status status() {
            return out.closedWith;
        }

        void assertRefused(Status.Code code, String inMessage) {
            assertNotNull("the upload ended with an error", out.closedWith);
            assertEquals(out.closedWith.toString(), code, out.closedWith.getCode());
            assertTrue(out.closedWith.getDescription(), out.closedWith.getDescription().contains(inMessage));
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private void assertNothingHeld() {
        assertTrue("no IO lock left: " + locks.held, locks.held.isEmpty());
        assertTrue("no mirror file left open: " + mirror.open, mirror.open.isEmpty());
        assertEquals("no upload counted", 0, sync.uploadsRunning());
    }

    @Test
    public void aFileArrivesWholeVerifiedAndItsLockIsReleased() {
        byte[] whole = bytes("hello mirror");
        Call call = new Call().start("logs/app.log", whole.length);
        assertEquals(0, call.out.sent.get(0).getReady().getOffset());
        assertEquals("the lock is held while the upload runs", 1, locks.held.size());
        assertTrue(locks.held.containsKey("mirror/n-1/logs/app.log"));

        call.chunk(0, bytes("hello ")).chunk(6, bytes("mirror")).end(whole);

        assertNull(call.status());
        assertTrue(call.out.completed);
        UploadResponse done = call.out.sent.get(1);
        assertEquals("logs/app.log", done.getDone().getPath());
        assertEquals(whole.length, done.getDone().getSize());
        assertEquals(MemoryMirror.sha256Hex(whole), done.getDone().getSha256());
        assertArrayEquals(whole, mirror.complete.get("n-1/logs/app.log"));
        assertNothingHeld();
    }

    @Test
    public void theNodeIsAskedForAtMostAWindowOfChunksAhead() {
        Call call = new Call();
        assertEquals("only UploadStart is asked for first", 1, call.out.requested.get());
        call.start("big.bin", 10);
        assertEquals(1 + FileSyncService.WINDOW, call.out.requested.get());
        call.chunk(0, new byte[5]);
        assertEquals("one more for each chunk written", 2 + FileSyncService.WINDOW, call.out.requested.get());
    }

    @Test
    public void aResumedUploadStartsWhereTheHubsPartialEnds() {
        new Call().start("resume.bin", 10).chunk(0, bytes("01234")).in.onError(Status.UNAVAILABLE.asRuntimeException());
        assertNothingHeld();

        Call again = new Call().start("resume.bin", 10);
        assertEquals("the hub holds five bytes", 5, again.out.sent.get(0).getReady().getOffset());
        again.chunk(5, bytes("56789")).end(bytes("0123456789"));
        assertTrue(again.out.completed);
        assertNothingHeld();
    }

    @Test
    public void aChunkAtTheWrongOffsetEndsTheUploadNamingTheExpectedOneAndKeepsWhatArrived() {
        Call call = new Call().start("gap.bin", 10).chunk(0, bytes("01234")).chunk(7, bytes("789"));
        call.assertRefused(Status.Code.OUT_OF_RANGE, "expected 5");
        assertEquals("the partial stays for a resume", 5, mirror.partials.get("n-1/gap.bin").size());
        assertNothingHeld();
    }

    @Test
    public void anOversizedChunkIsRefusedBeforeItIsWritten() {
        Call call = new Call().start("huge.bin", -1).chunk(0, new byte[FileSyncService.MAX_CHUNK + 1]);
        call.assertRefused(Status.Code.INVALID_ARGUMENT, "at most " + FileSyncService.MAX_CHUNK + " bytes");
        assertEquals(0, mirror.partials.get("n-1/huge.bin").size());
        assertNothingHeld();
    }

    @Test
    public void messagesOutOfOrderAreRefusedSayingWhatWasExpected() {
        new Call().chunk(0, bytes("x")).assertRefused(Status.Code.INVALID_ARGUMENT, "must be UploadStart");
        Call twice = new Call().start("a", 1);
        twice.start("a", 1);
        twice.assertRefused(Status.Code.INVALID_ARGUMENT, "first message of an Upload stream, once");
        assertNothingHeld();
        Call afterEnd = new Call().start("b", 1).chunk(0, bytes("x"));
        afterEnd.end(2, MemoryMirror.sha256(bytes("xy")));
        afterEnd.assertRefused(Status.Code.DATA_LOSS, "size 2 announced, 1 received");
        assertNothingHeld();
        Call shortSha = new Call().start("c", 1).chunk(0, bytes("x")).end(1, new byte[7]);
        shortSha.assertRefused(Status.Code.INVALID_ARGUMENT, "32-byte SHA-256");
        assertNothingHeld();
    }

    @Test
    public void aChecksumMismatchIsDataLossAndNothingIsInstalled() {
        Call call = new Call().start("sum.bin", 3).chunk(0, bytes("abc")).end(3, MemoryMirror.sha256(bytes("abd")));
        call.assertRefused(Status.Code.DATA_LOSS, "checksum mismatch");
        assertFalse(mirror.complete.containsKey("n-1/sum.bin"));
        assertNothingHeld();
    }

    @Test
    public void aSecondUploadOfTheSamePathIsAbortedWhileTheFirstRunsOn() {
        Call first = new Call().start("same.log", 4);
        Call second = new Call().start("same.log", 4);
        second.assertRefused(Status.Code.ABORTED, "being uploaded already");
        assertNull("the first upload is untouched", first.status());
        first.chunk(0, bytes("data")).end(bytes("data"));
        assertTrue(first.out.completed);
        assertNothingHeld();
    }

    @Test
    public void pastMaxUploadsTheNextIsRefusedAndTheSlotComesBackWhenOneEnds() {
        Call one = new Call().start("1", 1);
        Call two = new Call().start("2", 1);
        Call three = new Call().start("3", 1);
        three.assertRefused(Status.Code.RESOURCE_EXHAUSTED, "runs 2 uploads already (maxUploads)");
        one.chunk(0, bytes("1")).end(bytes("1"));
        Call four = new Call().start("4", 1);
        assertNull(four.status());
        two.in.onCompleted();
        four.in.onCompleted();
        assertNothingHeld();
    }

    @Test
    public void oneNodeCannotTakeEverySlotAndAStalledUploadIsEndedFreeingItsSlotAndLock() {
        FileSyncService shares = new FileSyncService(sessions,
                new Dispatcher(sessions, timers, new dev.meshhub.transport.impl.dispatch.TaskLimits(Duration.ofMinutes(1), Duration.ofSeconds(1), 8)),
                MoreExecutors.newDirectExecutorService(), timers,
                new FileSyncService.SyncLimits(Duration.ofMinutes(5), Duration.ofSeconds(30), 3, 2, IDLE));
        shares.bindMirrorStore(mirror);
        shares.bindLockRegistry(locks);
        shares.bindEnrollmentStore(store);
        List<RecordingStreamObserver<UploadResponse>> mine = new java.util.ArrayList<>();
        List<StreamObserver<UploadRequest>> mineIn = new java.util.ArrayList<>();
        for (String path : List.of("a", "b", "c")) {
            RecordingStreamObserver<UploadResponse> out = new RecordingStreamObserver<>();
            StreamObserver<UploadRequest> in = shares.upload(node, PEER, out);
            in.onNext(UploadRequest.newBuilder().setStart(UploadStart.newBuilder().setPath(path).setSize(10)).build());
            mine.add(out);
            mineIn.add(in);
        }
        mineIn.get(1).onNext(UploadRequest.newBuilder().setChunk(UploadChunk.newBuilder().setOffset(0)
                .setData(ByteString.copyFrom(bytes("01234")))).build());
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, mine.get(2).closedWith.getCode());
        assertTrue(mine.get(2).closedWith.getDescription(), mine.get(2).closedWith.getDescription()
                .contains("node n-1 runs 2 uploads already (maxUploadsPerNode 2)"));
        RecordingStreamObserver<UploadResponse> otherOut = new RecordingStreamObserver<>();
        shares.upload(store.find("n-2").orElseThrow(), PEER, otherOut)
                .onNext(UploadRequest.newBuilder().setStart(UploadStart.newBuilder().setPath("x").setSize(1)).build());
        assertNull("another node still gets a slot", otherOut.closedWith);
        assertEquals(3, shares.uploadsRunning());

        // Nothing arrives for longer than the idle timeout: every upload ends, its slot and lock freed.
        shares.endIdleUploads(System.nanoTime() + IDLE.toNanos() + 1);
        for (RecordingStreamObserver<UploadResponse> stalled : List.of(mine.get(0), mine.get(1), otherOut)) {
            assertEquals(Status.Code.DEADLINE_EXCEEDED, stalled.closedWith.getCode());
            assertTrue(stalled.closedWith.getDescription(), stalled.closedWith.getDescription()
                    .contains("sent nothing for 60 s (uploadIdleTimeoutSeconds)"));
        }
        assertEquals("what arrived is kept for a resume", 5, mirror.partials.get("n-1/b").size());
        assertTrue("no IO lock left: " + locks.held, locks.held.isEmpty());
        assertEquals(0, shares.uploadsRunning());
        shares.endIdleUploads(System.nanoTime());
    }

    @Test
    public void withoutAMirrorOrALockRegistryTheUploadSaysWhichFeatureToStart() {
        sync.unbindMirrorStore(mirror);
        new Call().start("x", 1).assertRefused(Status.Code.UNAVAILABLE, "feature meshhub-mirror");
        sync.bindMirrorStore(mirror);
        sync.unbindLockRegistry(locks);
        new Call().start("x", 1).assertRefused(Status.Code.UNAVAILABLE, "feature meshhub-locks");
        assertNothingHeld();
    }

    @Test
    public void hostilePathsAreRefusedBeforeAnythingIsOpened() {
        for (String path : List.of("../escape", "/etc/passwd", "a\0b", "")) {
            new Call().start(path, 1).assertRefused(Status.Code.INVALID_ARGUMENT, "not a clean relative path");
        }
        assertTrue(mirror.partials.isEmpty());
        assertNothingHeld();
    }

    @Test
    public void aCancelledStreamReleasesTheLockAndKeepsThePartial() {
        Call call = new Call().start("cut.bin", 10).chunk(0, bytes("012"));
        call.out.onCancel.run();
        assertEquals(3, mirror.partials.get("n-1/cut.bin").size());
        assertNothingHeld();
    }

    @Test
    public void theNodesSessionEndingEndsItsUploadsAtOnce() {
        RecordingStreamObserver<HubMessage> hubStream = new RecordingStreamObserver<>();
        NodeSessionHandle session = new NodeSessionHandle("n-1", "name-n-1", PEER, hubStream, clock);
        sessions.opened(session);
        sessions.register(session);
        Call call = new Call().start("live.bin", 10).chunk(0, bytes("01"));
        sessions.streamEnded(session, "the node went away");
        call.assertRefused(Status.Code.ABORTED, "the node's session ended (the node went away)");
        assertNothingHeld();
    }

    @Test
    public void aStreamEndingBeforeUploadEndIsRefusedKeepingWhatArrived() {
        Call call = new Call().start("half.bin", 10).chunk(0, bytes("01234"));
        call.in.onCompleted();
        call.assertRefused(Status.Code.INVALID_ARGUMENT, "ended before UploadEnd");
        assertEquals(5, mirror.partials.get("n-1/half.bin").size());
        assertNothingHeld();
    }

    @Test
    public void aPullIsAnsweredByTheNodesUploadAndReportsTheResult() throws Exception {
        RecordingStreamObserver<HubMessage> hubStream = new RecordingStreamObserver<>();
        NodeSessionHandle session = new NodeSessionHandle("n-1", "name-n-1", PEER, hubStream, clock);
        sessions.opened(session);
        sessions.register(session);
        CompletableFuture<long[]> started = new CompletableFuture<>();
        TransferHandle pull = sync.pull("name-n-1", "logs/app.log", new dev.meshhub.api.sync.TransferListener() {
            @Override
            public void started(String transferId, long resumedFrom, long totalSize) {
                started.complete(new long[] {resumedFrom, totalSize});
            }
        });
        HubMessage request = hubStream.sent.stream().filter(HubMessage::hasSyncRequest).findFirst().orElseThrow();
        assertEquals("logs/app.log", request.getSyncRequest().getPath());

        byte[] whole = bytes("pulled");
        new Call().start("logs/app.log", whole.length, request.getSyncRequest().getSyncId()).chunk(0, whole).end(whole);

        assertArrayEquals(new long[] {0, whole.length}, started.get(5, TimeUnit.SECONDS));
        TransferResult result = pull.result().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(whole.length, result.size());
        assertEquals(MemoryMirror.sha256Hex(whole), result.sha256());
        assertNothingHeld();
    }

    @Test
    public void anUploadNamingAPullOfAnotherPathOrNodeIsRefused() throws Exception {
        RecordingStreamObserver<HubMessage> hubStream = new RecordingStreamObserver<>();
        NodeSessionHandle session = new NodeSessionHandle("n-1", "name-n-1", PEER, hubStream, clock);
        sessions.opened(session);
        sessions.register(session);
        TransferHandle pull = sync.pull("n-1", "wanted.log", null);
        String syncId = hubStream.sent.stream().filter(HubMessage::hasSyncRequest).findFirst().orElseThrow().getSyncRequest().getSyncId();

        new Call().start("other.log", 1, syncId).assertRefused(Status.Code.FAILED_PRECONDITION, "no pending sync");
        new Call().start("wanted.log", 1, "s-made-up").assertRefused(Status.Code.FAILED_PRECONDITION, "no pending sync");
        assertFalse("the pull still waits for the right upload", pull.result().toCompletableFuture().isDone());
        pull.cancel("test over");
        ExecutionException cancelled = org.junit.Assert.assertThrows(ExecutionException.class,
                () -> pull.result().toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(TransferException.Reason.CANCELLED, ((TransferException) cancelled.getCause()).reason());
        assertNothingHeld();
    }
}
