package dev.meshhub.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import com.google.protobuf.ByteString;

import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.UploadChunk;
import dev.meshhub.proto.v1.UploadRequest;
import dev.meshhub.proto.v1.UploadResponse;
import dev.meshhub.proto.v1.UploadStart;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

/**
 * Row 6 over gRPC: abandoned uploads, as many as fit in a given time. Each one opens an Upload stream
 * on the simulated node's connection (its certificate, or its credential header on a plaintext port), sends UploadStart (size unknown, -1) for
 * one of {@code paths} files in rotation, waits for UploadReady (the hub holds the file's lock from
 * here), sends one chunk at the offset the hub named, and cancels the stream: the node dropped it
 * mid-way. A fixed number are in flight at once; callbacks run on the connection's event loop and
 * never block.
 *
 * <p>The hub keeps what arrived of each file for a resume, so each file grows by a chunk per
 * abandon; rotating over many paths keeps every partial small.
 */
final class UploadChurn {

    /**
     * What a run did.
     *
     * @param abandoned   uploads that got UploadReady (the hub took the lock), sent a chunk and were cancelled
     * @param refused     uploads the hub ended before UploadReady, by status code
     * @param elapsed     how long it ran
     * @param perSecond   abandoned uploads completed in each second of the run
     * @param ready       UploadStart to UploadReady, nanoseconds
     */
    record Result(long abandoned, Map<String, Long> refused, Duration elapsed, long[] perSecond, Histogram ready) {
        double rate() {
            return abandoned / (elapsed.toNanos() / 1e9);
        }

        long refusedTotal() {
            return refused.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private final NodeServiceGrpc.NodeServiceStub stub;
    private final int inFlight;
    private final int paths;
    private final ByteString chunk;

    UploadChurn(NodeServiceGrpc.NodeServiceStub stub, int inFlight, int paths, int chunkBytes) {
        this.stub = stub;
        this.inFlight = inFlight;
        this.paths = paths;
        byte[] data = new byte[chunkBytes];
        new SplittableRandom(6).nextBytes(data);
        this.chunk = ByteString.copyFrom(data);
    }

    static String path(int index) {
        return String.format("churn/p%05d.log", index);
    }

    /** Abandons uploads for {@code duration}, then waits (at most 30 s) for the last ones in flight. */
    Result run(Duration duration) throws InterruptedException {
        Semaphore permits = new Semaphore(inFlight);
        LongAdder abandoned = new LongAdder();
        Map<String, LongAdder> refused = new ConcurrentHashMap<>();
        int seconds = (int) Math.max(1, duration.toSeconds());
        AtomicLongArray perSecond = new AtomicLongArray(seconds + 31);
        Recorder ready = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
        AtomicLong next = new AtomicLong();
        long started = System.nanoTime();
        long deadline = started + duration.toNanos();
        while (System.nanoTime() < deadline) {
            if (!permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                continue;
            }
            int index = (int) (next.getAndIncrement() % paths);
            long sent = System.nanoTime();
            AtomicBoolean ended = new AtomicBoolean();
            Runnable finish = () -> {
                if (ended.compareAndSet(false, true)) {
                    permits.release();
                }
            };
            ClientResponseObserver<UploadRequest, UploadResponse> observer = new ClientResponseObserver<>() {
                private ClientCallStreamObserver<UploadRequest> requests;
                private boolean gotReady;

                @Override
                public void beforeStart(ClientCallStreamObserver<UploadRequest> stream) {
                    requests = stream;
                }

                @Override
                public void onNext(UploadResponse response) {
                    if (gotReady || !response.hasReady()) {
                        return;
                    }
                    gotReady = true;
                    long now = System.nanoTime();
                    ready.recordValue(Math.min(now - sent, TimeUnit.SECONDS.toNanos(60)));
                    requests.onNext(UploadRequest.newBuilder().setChunk(UploadChunk.newBuilder()
                            .setOffset(response.getReady().getOffset()).setData(chunk)).build());
                    requests.cancel("benchmark: the node dropped the upload mid-way", null);
                    abandoned.increment();
                    perSecond.incrementAndGet((int) Math.min(perSecond.length() - 1, TimeUnit.NANOSECONDS.toSeconds(now - started)));
                    finish.run();
                }

                @Override
                public void onError(Throwable t) {
                    if (!gotReady) {
                        refused.computeIfAbsent(Status.fromThrowable(t).getCode().name(), k -> new LongAdder()).increment();
                    }
                    finish.run();
                }

                @Override
                public void onCompleted() {
                    if (!gotReady) {
                        refused.computeIfAbsent("completed without UploadReady", k -> new LongAdder()).increment();
                    }
                    finish.run();
                }
            };
            try {
                stub.upload(observer).onNext(UploadRequest.newBuilder().setStart(UploadStart.newBuilder().setPath(path(index))
                        .setSize(-1)).build());
            } catch (RuntimeException e) {
                refused.computeIfAbsent("client: " + e.getClass().getSimpleName(), k -> new LongAdder()).increment();
                finish.run();
            }
        }
        long elapsed = System.nanoTime() - started;
        // The last ones still in flight end (Ready or refusal) soon after; they count if they do.
        if (permits.tryAcquire(inFlight, 30, TimeUnit.SECONDS)) {
            permits.release(inFlight);
        }
        Map<String, Long> refusals = new TreeMap<>();
        refused.forEach((code, count) -> refusals.put(code, count.sum()));
        long[] seconds2 = new long[seconds];
        for (int i = 0; i < seconds; i++) {
            seconds2[i] = perSecond.get(i);
        }
        return new Result(abandoned.sum(), refusals, Duration.ofNanos(elapsed), seconds2, ready.getIntervalHistogram());
    }

    /** Abandoned uploads per second in consecutive windows of {@code windowSeconds} (a last partial window left out). */
    static List<Double> windowRates(long[] perSecond, int windowSeconds) {
        List<Double> rates = new ArrayList<>();
        for (int start = 0; start + windowSeconds <= perSecond.length; start += windowSeconds) {
            long sum = 0;
            for (int i = start; i < start + windowSeconds; i++) {
                sum += perSecond[i];
            }
            rates.add(sum / (double) windowSeconds);
        }
        return rates;
    }
}
