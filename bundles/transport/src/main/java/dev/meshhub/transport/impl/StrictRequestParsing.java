package dev.meshhub.transport.impl;

import java.io.InputStream;

import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Makes a request that does not parse (garbage bytes, nesting past protobuf's recursion limit) fail
 * with INVALID_ARGUMENT naming the expected message, instead of grpc-java's generic INTERNAL.
 * Protobuf's own recursion limit keeps parsing bounded; no StackOverflowError is possible.
 */
final class StrictRequestParsing {

    private StrictRequestParsing() {
    }

    static ServerServiceDefinition apply(ServerServiceDefinition service) {
        ServerServiceDefinition.Builder strict = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
            strict.addMethod(strict(method));
        }
        return strict.build();
    }

    private static <Q, R> ServerMethodDefinition<Q, R> strict(ServerMethodDefinition<Q, R> method) {
        MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
        MethodDescriptor<Q, R> checked = descriptor.toBuilder()
                .setRequestMarshaller(new Checked<>(descriptor.getRequestMarshaller(), descriptor.getFullMethodName()))
                .build();
        return ServerMethodDefinition.create(checked, method.getServerCallHandler());
    }

    private record Checked<T>(MethodDescriptor.Marshaller<T> delegate, String method) implements MethodDescriptor.Marshaller<T> {
        @Override
        public InputStream stream(T value) {
            return delegate.stream(value);
        }

        @Override
        public T parse(InputStream stream) {
            try {
                return delegate.parse(stream);
            } catch (StatusRuntimeException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw Status.INVALID_ARGUMENT
                        .withDescription("request to " + method + " is not a valid protobuf message (" + cause.getMessage()
                                + "); build the client from meshhub's .proto files")
                        .asRuntimeException();
            }
        }
    }
}
