package dev.meshhub.bench;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.util.Iterator;

import com.google.protobuf.BytesValue;
import com.google.protobuf.Int64Value;

import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;

/**
 * The client of row 18's raw gRPC baseline ({@link RawOutputServer}), a process of its own whose stdout a pipeline
 * hands to {@code sha256sum}, as {@code meshctl exec}'s: it asks for SIZE bytes in one server-streaming call and writes
 * each message's bytes to stdout, flushed per message, the way meshctl writes a task's output (a blocking iterator, the
 * bytes copied out of the message, {@code PrintStream.write} and {@code flush}). The driver starts it on meshctl's own
 * class path ({@code lib/cli/*}: the same grpc-java, OkHttp transport and protobuf) with meshctl's JVM options, so that
 * the consumer is meshctl's in all but the hub. It uses only what that class path holds (no Netty; of the driver's classes only {@link BenchMethods}).
 *
 * <p>Usage: {@code RawOutputClient HOST:PORT SIZE}; exits 0 when SIZE bytes arrived, 1 otherwise (saying why on stderr).
 */
public final class RawOutputClient {

    /** One call: the size wanted (Int64Value), answered with that many bytes in messages of {@link RawOutputServer#MESSAGE_BYTES}. */
    static final MethodDescriptor<Int64Value, BytesValue> STREAM = BenchMethods.method(MethodDescriptor.MethodType.SERVER_STREAMING,
            "meshhub.bench.RawOutput", "Stream", Int64Value.getDefaultInstance(), BytesValue.getDefaultInstance());

    private RawOutputClient() {
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: RawOutputClient HOST:PORT SIZE");
            System.exit(2);
        }
        int colon = args[0].lastIndexOf(':');
        long size = Long.parseLong(args[1]);
        ManagedChannel channel = Grpc.newChannelBuilderForAddress(args[0].substring(0, colon),
                Integer.parseInt(args[0].substring(colon + 1)), InsecureChannelCredentials.create()).build();
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false);
        long received = 0;
        try {
            Iterator<BytesValue> messages = ClientCalls.blockingServerStreamingCall(channel, STREAM, CallOptions.DEFAULT,
                    Int64Value.of(size));
            while (messages.hasNext()) {
                byte[] data = messages.next().getValue().toByteArray();
                received += data.length;
                out.write(data, 0, data.length);
                out.flush();
                if (out.checkError()) {
                    System.err.println("raw gRPC client: cannot write to stdout after " + received + " bytes");
                    System.exit(1);
                }
            }
        } catch (RuntimeException e) {
            System.err.println("raw gRPC client: the call failed after " + received + " bytes: " + e);
            System.exit(1);
        } finally {
            channel.shutdownNow();
        }
        if (received != size) {
            System.err.println("raw gRPC client: " + received + " bytes arrived, not " + size);
            System.exit(1);
        }
        System.exit(0);
    }
}
