package dev.meshhub.bench;

import com.google.protobuf.Message;

import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;

/**
 * The gRPC methods of the driver's own baselines (a service name of {@code meshhub.bench.*}), with protobuf messages. Only
 * grpc-api and grpc-protobuf: {@link RawOutputClient} uses it on meshctl's class path, where there is no Netty.
 */
final class BenchMethods {

    private BenchMethods() {
    }

    static <Q extends Message, R extends Message> MethodDescriptor<Q, R> method(MethodDescriptor.MethodType type, String service,
            String name, Q request, R response) {
        return MethodDescriptor.<Q, R>newBuilder().setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, name))
                .setRequestMarshaller(ProtoUtils.marshaller(request))
                .setResponseMarshaller(ProtoUtils.marshaller(response))
                .build();
    }
}
