package dev.meshhub.cli;

import dev.meshhub.proto.v1.HubAddress;
import dev.meshhub.proto.v1.AdminServiceGrpc;
import dev.meshhub.proto.v1.WireHeaders;
import io.grpc.ChannelCredentials;
import io.grpc.ConnectivityState;
import io.grpc.Context;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.okhttp.OkHttpChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.security.GeneralSecurityException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * One connection to the hub's AdminService: sends the admin token as {@code authorization: Bearer},
 * puts a 10 s deadline on every call and turns gRPC errors into one-line {@link CliException}s.
 * Long-running calls ({@code exec}) use {@link #awaitConnected} and {@link #unboundedStub()} instead.
 */
final class AdminClient implements AutoCloseable {

    /** TLS 1.3's cipher suites as the JDK names them (the JDK leaves out any it lacks). */
    private static final String[] TLS13_CIPHER_SUITES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256"};

    /** Deadline of every admin call. */
    static final long DEADLINE_SECONDS = 10;

    private final HubAddress hub;
    private final AdminToken token;
    private final dev.meshhub.proto.v1.HubTrust trust;
    private final ManagedChannel channel;
    private final AdminServiceGrpc.AdminServiceBlockingStub stub;

    AdminClient(HubAddress hub, AdminToken token, String userAgent) {
        this(hub, token, userAgent, InsecureChannelCredentials.create(), null);
    }

    /**
     * With {@code credentials} from {@link AdminTls#choose}: TLS that verifies the hub (by {@code trust}, which
     * then explains a refusal), or plaintext on loopback ({@code trust} null).
     */
    AdminClient(HubAddress hub, AdminToken token, String userAgent, ChannelCredentials credentials,
            dev.meshhub.proto.v1.HubTrust trust) {
        this.trust = trust;
        this.hub = hub;
        this.token = token;
        this.channel = builder(hub, credentials).userAgent(userAgent).build();
        Metadata headers = new Metadata();
        headers.put(WireHeaders.AUTHORIZATION, WireHeaders.BEARER + token.value());
        this.stub = AdminServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /**
     * OkHttp, not Netty: meshctl lives for one call, and OkHttp's transport starts in a fraction of the time (bench
     * row 10); its threads wait in Java, so the JVM exits without waiting on a thread in native code. The admin API
     * speaks TLS 1.3 only, which grpc-okhttp does not offer unless told, and a channel built from
     * {@link ChannelCredentials} cannot be told: so TLS is set up here from the credentials' trust managers.
     */
    private static OkHttpChannelBuilder builder(HubAddress hub, ChannelCredentials credentials) {
        OkHttpChannelBuilder builder = OkHttpChannelBuilder.forAddress(hub.host(), hub.port());
        if (credentials instanceof InsecureChannelCredentials) {
            return builder.usePlaintext();
        }
        if (!(credentials instanceof TlsChannelCredentials tls) || tls.getTrustManagers() == null) {
            throw new IllegalArgumentException("meshctl speaks plaintext or TLS verified by trust managers, not " + credentials);
        }
        try {
            SSLContext context = SSLContext.getInstance("TLSv1.3");
            context.init(null, tls.getTrustManagers().toArray(new TrustManager[0]), null);
            return builder.sslSocketFactory(context.getSocketFactory())
                    .tlsConnectionSpec(new String[] {"TLSv1.3"}, TLS13_CIPHER_SUITES);
        } catch (GeneralSecurityException e) {
            throw new CliException(CliException.FAILED, "this JDK cannot speak TLS 1.3 to the admin API: " + e, e);
        }
    }

    /** Runs one call with the deadline; a gRPC error becomes a {@link CliException} (exit 1). */
    <T> T call(Function<AdminServiceGrpc.AdminServiceBlockingStub, T> rpc) {
        try {
            return rpc.apply(stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS));
        } catch (StatusRuntimeException e) {
            throw new CliException(CliException.FAILED, explain(e.getStatus()), e);
        }
    }

    /**
     * The stub without a deadline, for calls bounded by something else (Exec: the task's own
     * timeout). Connect first with {@link #awaitConnected}; errors are turned into messages with
     * {@link #explain}.
     */
    AdminServiceGrpc.AdminServiceBlockingStub unboundedStub() {
        return stub;
    }

    /**
     * Connects within {@link #DEADLINE_SECONDS}: fails fast with the "cannot reach" message when
     * nothing listens, and with a timeout message when the hub does not answer.
     *
     * @param abort when it is cancelled, stop waiting
     * @return false if {@code abort} was cancelled first
     * @throws CliException (exit 1) when the hub cannot be reached
     */
    boolean awaitConnected(Context abort) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        while (true) {
            if (abort.isCancelled()) {
                return false;
            }
            ConnectivityState state = channel.getState(true);
            switch (state) {
                case READY:
                    return true;
                case TRANSIENT_FAILURE:
                case SHUTDOWN:
                    throw new CliException(CliException.FAILED,
                            "cannot reach the hub's admin API at " + hub + " (is the hub running?)");
                default:
                    break;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new CliException(CliException.FAILED, "cannot reach the hub's admin API at " + hub
                        + ": no connection within " + DEADLINE_SECONDS + " s");
            }
            CountDownLatch changed = new CountDownLatch(1);
            channel.notifyWhenStateChanged(state, changed::countDown);
            Context.CancellationListener wake = c -> changed.countDown();
            abort.addListener(wake, Runnable::run);
            try {
                changed.await(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } finally {
                abort.removeListener(wake);
            }
        }
    }

    /** The one line the user sees for a failed call. */
    String explain(Status status) {
        String description = status.getDescription();
        boolean said = description != null && !description.isBlank();
        switch (status.getCode()) {
            case UNAVAILABLE:
                if (trust != null && trust.lastRefusal().isPresent()) {
                    return "refused the hub's admin API at " + hub + ": " + trust.lastRefusal().get()
                            + "; the admin token was not sent";
                }
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
