package dev.meshhub.cli;

import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.CreateInviteRequest;
import dev.meshhub.proto.v1.CreateInviteResponse;
import dev.meshhub.proto.v1.ListNodesRequest;
import dev.meshhub.proto.v1.ListNodesResponse;
import dev.meshhub.proto.v1.NodeStatus;
import dev.meshhub.proto.v1.RevokeNodeRequest;
import dev.meshhub.proto.v1.RevokeNodeResponse;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for the hub's AdminService on 127.0.0.1: checks the Bearer header like the hub,
 * records requests and answers from canned data.
 */
final class FakeAdminHub implements AutoCloseable {

    static final String ADMIN_TOKEN = "adm-0123456789abcdefghijklmnopqrstuvwxyz";
    static final String INVITE_TOKEN = "mhi.0123456789abcdef." + "Q".repeat(43);

    final BlockingQueue<String> authorizationHeaders = new LinkedBlockingQueue<>();
    final BlockingQueue<Object> requests = new LinkedBlockingQueue<>();
    final List<NodeStatus> nodes = new CopyOnWriteArrayList<>();
    private final Server server;

    FakeAdminHub() throws IOException {
        ServerInterceptor checkBearer = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                String auth = headers.get(WireHeaders.AUTHORIZATION);
                authorizationHeaders.add(auth == null ? "<none>" : auth);
                if (!(WireHeaders.BEARER + ADMIN_TOKEN).equals(auth)) {
                    call.close(Status.UNAUTHENTICATED.withDescription("admin token does not match"), new Metadata());
                    return new ServerCall.Listener<>() { };
                }
                return next.startCall(call, headers);
            }
        };
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(new Service(), checkBearer))
                .build()
                .start();
    }

    int port() {
        return server.getPort();
    }

    String address() {
        return "127.0.0.1:" + port();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }

    private final class Service extends AdminServiceGrpc.AdminServiceImplBase {
        @Override
        public void createInvite(CreateInviteRequest request, StreamObserver<CreateInviteResponse> response) {
            requests.add(request);
            response.onNext(CreateInviteResponse.newBuilder()
                    .setToken(INVITE_TOKEN).setInviteId("0123456789abcdef").setExpiresAtMs(1_767_225_600_000L).build());
            response.onCompleted();
        }

        @Override
        public void listNodes(ListNodesRequest request, StreamObserver<ListNodesResponse> response) {
            requests.add(request);
            ListNodesResponse.Builder answer = ListNodesResponse.newBuilder();
            for (NodeStatus n : nodes) {
                if (request.getIncludeOffline() || n.getConnected()) {
                    answer.addNodes(n);
                }
            }
            response.onNext(answer.build());
            response.onCompleted();
        }

        @Override
        public void revokeNode(RevokeNodeRequest request, StreamObserver<RevokeNodeResponse> response) {
            requests.add(request);
            for (NodeStatus n : nodes) {
                if (n.getNodeId().equals(request.getNode()) || n.getName().equals(request.getNode())) {
                    response.onNext(RevokeNodeResponse.newBuilder()
                            .setNodeId(n.getNodeId()).setSessionClosed(n.getConnected()).build());
                    response.onCompleted();
                    return;
                }
            }
            response.onError(Status.NOT_FOUND
                    .withDescription("no node with id or name '" + request.getNode() + "'; see 'meshctl nodes --all'")
                    .asRuntimeException());
        }
    }
}
