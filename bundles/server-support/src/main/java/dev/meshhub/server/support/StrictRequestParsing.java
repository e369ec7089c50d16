package dev.meshhub.server.support;

import java.io.InputStream;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Makes a request that does not parse (garbage bytes, nesting past protobuf's recursion limit) fail
 * with INVALID_ARGUMENT naming the method, instead of grpc-java's generic UNKNOWN "Application error".
 * Protobuf's own recursion limit keeps parsing bounded; no StackOverflowError is possible.
 *
 * <p>grpc-java turns anything a request marshaller throws into UNKNOWN, so the marshaller here does
 * not throw: it records the failure for the current thread and hands over the message prototype;
 * the listener below, which grpc calls next on the same thread with that message, closes the call
 * with the recorded status instead of passing the message on.
 */
public final class StrictRequestParsing {

    private static final ThreadLocal<Status> PARSE_FAILURE = new ThreadLocal<>();

    private StrictRequestParsing() {
    }

    public static ServerServiceDefinition apply(ServerServiceDefinition service) {
        ServerServiceDefinition.Builder strict = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
            strict.addMethod(strict(method));
        }
        return ServerInterceptors.intercept(strict.build(), new RefuseUnparsed());
    }

    private static <Q, R> ServerMethodDefinition<Q, R> strict(ServerMethodDefinition<Q, R> method) {
        MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
        if (!(descriptor.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<Q> prototype)) {
            return method;
        }
        MethodDescriptor<Q, R> checked = descriptor.toBuilder()
                .setRequestMarshaller(new Checked<>(prototype, descriptor.getFullMethodName()))
                .build();
        return ServerMethodDefinition.create(checked, method.getServerCallHandler());
    }

    private record Checked<T>(MethodDescriptor.PrototypeMarshaller<T> delegate, String method) implements MethodDescriptor.Marshaller<T> {
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
                PARSE_FAILURE.set(Status.INVALID_ARGUMENT.withDescription("request to " + method
                        + " is not a valid protobuf message (" + cause.getMessage() + "); build the client from meshhub's .proto files"));
                return delegate.getMessagePrototype();
            }
        }
    }

    /** Closes a call whose last message did not parse; swallows everything after that. */
    private static final class RefuseUnparsed implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            PARSE_FAILURE.remove();
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
                private boolean refused;

                @Override
                public void onMessage(Q message) {
                    Status failure = PARSE_FAILURE.get();
                    if (failure != null) {
                        PARSE_FAILURE.remove();
                        if (!refused) {
                            refused = true;
                            call.close(failure, new Metadata());
                        }
                        return;
                    }
                    if (!refused) {
                        super.onMessage(message);
                    }
                }

                @Override
                public void onHalfClose() {
                    if (!refused) {
                        super.onHalfClose();
                    }
                }

                @Override
                public void onReady() {
                    if (!refused) {
                        super.onReady();
                    }
                }
            };
        }
    }
}
