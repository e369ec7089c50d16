package dev.meshhub.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.KeyManagerFactory;

import com.google.protobuf.ByteString;

import dev.meshhub.proto.v1.Hello;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeInfo;
import dev.meshhub.proto.v1.NodeMessage;
import dev.meshhub.proto.v1.NodeServiceGrpc;
import dev.meshhub.proto.v1.SyncConfigurationRequest;
import dev.meshhub.proto.v1.SyncConfigurationResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * Row 8's node: it joins a hub that is still starting the way the node agent does, trying again
 * every {@value #RETRY_MS} ms (its reconnect backoff skipped) while the node port does not answer. Until
 * the port accepts connections it tries with a plain TCP connect (closed at once), not a gRPC call: a
 * refused gRPC attempt costs the driver some 2 ms of CPU, which on two cores is taken from the hub.
 * Enrollment: {@code SyncConfiguration} with an invite and a CSR, over TLS verified by the hub's
 * {@code data/pki/trust.pem}. Handshake, with the certificate the hub issued: {@code SyncConfiguration}
 * (info only, as the agent reconnects), then a {@code TaskStream} and its Hello, answered when the
 * hub's first message arrives (the hub pushes the node's sandbox policy as soon as it lists the session).
 */
final class ColdStartNode {

    static final String NAME = "bench-cold";
    static final int RETRY_MS = 5;

    private static final NodeInfo INFO = NodeInfo.newBuilder().setHostname(NAME).setOs("simulated").setAgentVersion("meshhub-bench")
            .build();

    private final NodeKeys keys = new NodeKeys();
    /** Made before the hub starts, as a node's key exists before it joins. */
    private final ByteString csr = keys.csr(NAME);
    private KeyManagerFactory certified;

    /**
     * What one handshake saw.
     *
     * @param portAccepted  when the node port first accepted a TCP connection ({@link System#nanoTime()})
     * @param syncAnswered  when SyncConfiguration was answered
     * @param helloAnswered when the hub's first message on the TaskStream arrived
     * @param answer        what that message was
     * @param probes        TCP connects tried until the node port accepted one
     * @param attempts      SyncConfiguration calls made until one was answered
     */
    record Handshake(long portAccepted, long syncAnswered, long helloAnswered, String answer, int probes, int attempts) {
    }

    /** Enrolls with {@code invite}; returns when the hub answered with a certificate. */
    long enroll(Path home, int port, String invite, long deadline) throws InterruptedException {
        ManagedChannel channel = SimulatedNode.channel(home, port, false);
        try {
            awaitPort(port, deadline);
            SyncConfigurationRequest request = SyncConfigurationRequest.newBuilder().setInviteToken(invite).setNodeName(NAME)
                    .setInfo(INFO).setCsr(csr).build();
            SyncConfigurationResponse response = call(channel, request, deadline, new int[1]);
            if (response.getCertificateChainCount() == 0) {
                throw new IllegalStateException("the hub enrolled " + NAME + " without a certificate");
            }
            long answered = System.nanoTime();
            certified = keys.keyManagers(response.getCertificateChainList());
            return answered;
        } finally {
            channel.shutdownNow();
        }
    }

    /** A TLS channel presenting the node's certificate (not connected until the first call). */
    ManagedChannel channel(Path home, int port) {
        if (certified == null) {
            throw new IllegalStateException(NAME + " has not enrolled");
        }
        return SimulatedNode.channel(home, port, false, certified);
    }

    /** SyncConfiguration, then TaskStream with Hello until the hub's first message; the stream stays open until the channel is shut. */
    Handshake handshake(ManagedChannel channel, int port, long deadline) throws InterruptedException {
        int probes = awaitPort(port, deadline);
        long accepted = System.nanoTime();
        int[] attempts = new int[1];
        call(channel, SyncConfigurationRequest.newBuilder().setInfo(INFO).build(), deadline, attempts);
        long synced = System.nanoTime();
        CompletableFuture<String> first = new CompletableFuture<>();
        long[] at = new long[1];
        StreamObserver<NodeMessage> requests = NodeServiceGrpc.newStub(channel).taskStream(new StreamObserver<>() {
            @Override
            public void onNext(HubMessage message) {
                if (!first.isDone()) {
                    at[0] = System.nanoTime();
                    first.complete(message.getPayloadCase().name());
                }
            }

            @Override
            public void onError(Throwable t) {
                first.completeExceptionally(new IllegalStateException("TaskStream failed before the hub's first message: "
                        + Status.fromThrowable(t)));
            }

            @Override
            public void onCompleted() {
                first.completeExceptionally(new IllegalStateException("the hub ended the TaskStream before its first message"));
            }
        });
        requests.onNext(NodeMessage.newBuilder().setHello(Hello.newBuilder().setInfo(INFO)).build());
        String answer;
        try {
            answer = first.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw (RuntimeException) e.getCause();
        } catch (TimeoutException e) {
            throw new IllegalStateException("the hub did not answer " + NAME + "'s Hello in time");
        }
        return new Handshake(accepted, synced, at[0], answer, probes, attempts[0]);
    }

    /** Tries TCP connects to 127.0.0.1:{@code port} until one is accepted; returns how many were tried. */
    private static int awaitPort(int port, long deadline) throws InterruptedException {
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        int tries = 0;
        while (true) {
            tries++;
            try (Socket socket = new Socket()) {
                socket.connect(address, 1000);
                return tries;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the node port " + port + " did not accept a connection in time: " + e);
                }
            }
            Thread.sleep(RETRY_MS);
        }
    }

    /** One SyncConfiguration, tried again while the hub is not there yet (UNAVAILABLE). */
    private static SyncConfigurationResponse call(ManagedChannel channel, SyncConfigurationRequest request, long deadline, int[] attempts)
            throws InterruptedException {
        while (true) {
            channel.resetConnectBackoff();
            attempts[0]++;
            try {
                return NodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).syncConfiguration(request);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > deadline) {
                    throw new IllegalStateException("SyncConfiguration of " + NAME + " failed after " + attempts[0] + " attempt(s): "
                            + e.getStatus(), e);
                }
            }
            Thread.sleep(RETRY_MS);
        }
    }

    /** The admin token once the hub has written it (it writes it when its admin API starts). */
    static String awaitToken(HubInstance hub, long deadline) throws Exception {
        Path token = hub.home().resolve("etc/admin.token");
        while (true) {
            if (Files.isRegularFile(token)) {
                String text = Files.readString(token, StandardCharsets.US_ASCII).trim();
                if (!text.isEmpty()) {
                    return text;
                }
            }
            if (!hub.alive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("no admin token from the fresh hub; " + hub.logTail(15));
            }
            Thread.sleep(RETRY_MS);
        }
    }

    /** CreateInvite, tried again while the admin API is not there yet. */
    static String createInvite(HubAdmin admin, long deadline) throws InterruptedException {
        while (true) {
            admin.resetConnectBackoff();
            try {
                return admin.createInvite();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            Thread.sleep(RETRY_MS);
        }
    }
}
