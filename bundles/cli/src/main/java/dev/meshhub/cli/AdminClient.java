package dev.meshhub.cli;

import dev.meshhub.proto.v1.HubAddress;
import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One connection to the hub's AdminService: sends the admin token as {@code authorization: Bearer},
 * puts a 10 s deadline on every call and turns gRPC errors into one-line {@link CliException}s.
 */
final class AdminClient implements AutoCloseable {

    /** Deadline of every admin call. */
    static final long DEADLINE_SECONDS = 10;

    private final HubAddress hub;
    private final AdminToken token;
    private final ManagedChannel channel;
    private final AdminServiceGrpc.AdminServiceBlockingStub stub;

    AdminClient(HubAddress hub, AdminToken token, String userAgent) {
        this.hub = hub;
        this.token = token;
        this.channel = ManagedChannelBuilder.forAddress(hub.host(), hub.port())
                .usePlaintext()
                .userAgent(userAgent)
                .build();
        Metadata headers = new Metadata();
        headers.put(WireHeaders.AUTHORIZATION, WireHeaders.BEARER + token.value());
        this.stub = AdminServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /** Runs one call with the deadline; a gRPC error becomes a {@link CliException} (exit 1). */
    <T> T call(Function<AdminServiceGrpc.AdminServiceBlockingStub, T> rpc) {
        try {
            return rpc.apply(stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS));
        } catch (StatusRuntimeException e) {
            throw new CliException(CliException.FAILED, explain(e.getStatus()), e);
        }
    }

    /** The one line the user sees for a failed call. */
    String explain(Status status) {
        String description = status.getDescription();
        boolean said = description != null && !description.isBlank();
        switch (status.getCode()) {
            case UNAVAILABLE:
                if (status.getCause() == null && said) {
                    return "the hub's admin API at " + hub + " is unavailable: " + description;
                }
                return "cannot reach the hub's admin API at " + hub + " (is the hub running?)";
            case DEADLINE_EXCEEDED:
                return "the hub's admin API at " + hub + " did not answer within " + DEADLINE_SECONDS + " s";
            case UNAUTHENTICATED:
                return "the hub refused the admin token (" + (said ? description : "UNAUTHENTICATED") + "); check "
                        + token.origin();
            default:
                return said ? description : "the hub answered " + status.getCode();
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
