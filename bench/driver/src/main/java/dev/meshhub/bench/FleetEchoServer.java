package dev.meshhub.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import com.google.protobuf.Empty;
import com.google.protobuf.Int64Value;

import dev.meshhub.proto.v1.Heartbeat;
import dev.meshhub.proto.v1.HubMessage;
import dev.meshhub.proto.v1.NodeMessage;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/**
 * The baseline of rows 5 and 9, in a JVM of its own with the hub's JVM options: a bare grpc-java
 * server a fleet connects to as it connects to the hub. TLS 1.3 with the JDK's provider, as the
 * hub's node port has (node certificates requested, not verified against a CA: the server has none),
 * its handlers on 4 threads (the hub's grpcThreads), grpc-java's defaults otherwise (no admission
 * control: every connection is accepted, TLS handshakes may take 120 s), one bidirectional stream per node that answers
 * each message with a heartbeat. Plus two unary calls for the driver: {@code Heap} (heap used right
 * after a full GC, median of 5 readings, as the hub's probe reads it) and {@code Streams} (how many
 * streams are open).
 *
 * <p>{@code java -cp bench-driver.jar:lib/* dev.meshhub.bench.FleetEchoServer PORT DIR}: writes
 * {@code DIR/echo.pem} (its certificate) and then {@code DIR/echo.ready}.
 */
public final class FleetEchoServer {

    static final MethodDescriptor<Empty, Int64Value> HEAP = unary("Heap");
    static final MethodDescriptor<Empty, Int64Value> STREAMS = unary("Streams");

    private static final AtomicInteger OPEN = new AtomicInteger();

    private FleetEchoServer() {
    }

    private static MethodDescriptor<Empty, Int64Value> unary(String name) {
        return BenchMethods.method(MethodDescriptor.MethodType.UNARY, "meshhub.bench.FleetEcho", name, Empty.getDefaultInstance(),
                Int64Value.getDefaultInstance());
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path dir = Path.of(args[1]);
        Files.createDirectories(dir);
        // Restarted (row 9), the server keeps its key and certificate, as a hub keeps its PKI: the fleet trusts them.
        Path keyFile = dir.resolve("echo.key");
        java.security.PrivateKey key;
        X509Certificate certificate;
        if (Files.isRegularFile(keyFile)) {
            key = java.security.KeyFactory.getInstance("EC").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(
                    Base64.getDecoder().decode(Files.readString(keyFile).trim())));
            certificate = dev.meshhub.proto.v1.HubTrust.readPem(dir.resolve("echo.pem")).get(0);
        } else {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = generator.generateKeyPair();
            key = keys.getPrivate();
            certificate = selfSigned(keys);
            writeAtomically(keyFile, Base64.getEncoder().encodeToString(key.getEncoded()));
            writeAtomically(dir.resolve("echo.pem"), "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(certificate.getEncoded())
                    + "\n-----END CERTIFICATE-----\n");
        }
        var tls = GrpcSslContexts.configure(SslContextBuilder.forServer(key, certificate), SslProvider.JDK)
                .protocols("TLSv1.3").clientAuth(ClientAuth.OPTIONAL).trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        ServerServiceDefinition service = ServerServiceDefinition.builder("meshhub.bench.FleetEcho")
                .addMethod(FleetTarget.ECHO_STREAM, ServerCalls.asyncBidiStreamingCall(FleetEchoServer::stream))
                .addMethod(HEAP, ServerCalls.asyncUnaryCall((request, response) -> {
                    response.onNext(Int64Value.of(heapAfterGc()));
                    response.onCompleted();
                }))
                .addMethod(STREAMS, ServerCalls.asyncUnaryCall((request, response) -> {
                    response.onNext(Int64Value.of(OPEN.get()));
                    response.onCompleted();
                }))
                .build();
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .sslContext(tls).executor(Executors.newFixedThreadPool(4)).addService(service).build().start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "echo-stop"));
        writeAtomically(dir.resolve("echo.ready"), Long.toString(ManagementFactory.getRuntimeMXBean().getPid()));
        server.awaitTermination();
    }

    private static StreamObserver<NodeMessage> stream(StreamObserver<HubMessage> responses) {
        OPEN.incrementAndGet();
        return new StreamObserver<>() {
            private boolean ended;
            private long sequence;

            @Override
            public void onNext(NodeMessage message) {
                synchronized (this) {
                    responses.onNext(HubMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
                            .setSentAtMs(System.currentTimeMillis()).setSequence(++sequence)).build());
                }
            }

            @Override
            public void onError(Throwable t) {
                end();
            }

            @Override
            public void onCompleted() {
                end();
                synchronized (this) {
                    responses.onCompleted();
                }
            }

            private synchronized void end() {
                if (!ended) {
                    ended = true;
                    OPEN.decrementAndGet();
                }
            }
        };
    }

    /** Heap used right after {@code System.gc()}: the median of 5 readings 200 ms apart. */
    static long heapAfterGc() {
        long[] readings = new long[5];
        for (int i = 0; i < readings.length; i++) {
            System.gc();
            readings[i] = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Arrays.sort(readings);
        return readings[readings.length / 2];
    }

    private static X509Certificate selfSigned(KeyPair keys) throws Exception {
        X500Name subject = new X500Name("CN=meshhub bench echo");
        long now = System.currentTimeMillis();
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(now), new Date(now - 60_000),
                new Date(now + 86_400_000L), subject, keys.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
        return new JcaX509CertificateConverter().getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA")
                .build(keys.getPrivate())));
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temporary, text);
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
