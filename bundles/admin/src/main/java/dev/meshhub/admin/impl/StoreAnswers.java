package dev.meshhub.admin.impl;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.enrollment.EnrollmentException;
import dev.meshhub.server.support.Answers;
import dev.meshhub.server.support.ApiStatuses;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * Answers admin calls from the thread that completes a service's future (the journal's, the
 * policy's), so no admin thread ever waits on storage. A service that does not answer within
 * {@link #TIMEOUT} gets DEADLINE_EXCEEDED saying so.
 */
final class StoreAnswers {

    private static final Logger LOG = LoggerFactory.getLogger(StoreAnswers.class);
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private StoreAnswers() {
    }

    /** Runs a service operation and answers with {@code toResponse} of its result, or the failure's status. */
    static <S, T> void answer(Supplier<CompletionStage<S>> operation, StreamObserver<T> observer, Function<S, T> toResponse) {
        CompletableFuture<S> pending;
        try {
            // copy(): the timeout below must not complete the service's own future.
            pending = operation.get().toCompletableFuture().copy();
        } catch (RuntimeException e) {
            pending = CompletableFuture.failedFuture(e);
        }
        pending.orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).whenComplete(responder(observer, toResponse));
    }

    private static <S, T> BiConsumer<S, Throwable> responder(StreamObserver<T> observer, Function<S, T> toResponse) {
        return (result, failure) -> {
            if (failure == null) {
                T response;
                try {
                    response = toResponse.apply(result);
                } catch (StatusRuntimeException explicit) {
                    Answers.fail(observer, explicit.getStatus());
                    return;
                } catch (RuntimeException e) {
                    LOG.warn("admin call failed while answering", e);
                    Answers.fail(observer, Status.INTERNAL.withDescription("admin call failed inside the hub; see the hub log"));
                    return;
                }
                Answers.complete(observer, response);
                return;
            }
            Answers.fail(observer, status(failure));
        };
    }

    /** What an admin caller sees for a failed service operation. */
    static Status status(Throwable failure) {
        Throwable cause = ApiStatuses.unwrap(failure);
        if (cause instanceof StatusRuntimeException explicit) {
            return explicit.getStatus();
        }
        if (cause instanceof EnrollmentException e && e.reason() == EnrollmentException.Reason.UNKNOWN) {
            // For an admin, an unknown node is "not found", not an authentication failure.
            return Status.NOT_FOUND.withDescription(e.getMessage());
        }
        Status status = ApiStatuses.of(cause);
        if (status == null && cause instanceof IllegalArgumentException invalid) {
            status = Status.INVALID_ARGUMENT.withDescription(invalid.getMessage());
        } else if (status == null && cause instanceof IllegalStateException unavailable) {
            status = Status.UNAVAILABLE.withDescription(unavailable.getMessage());
        }
        if (status == null) {
            LOG.warn("admin call failed", cause);
            return Status.INTERNAL.withDescription("admin call failed inside the hub; see the hub log");
        }
        if (status.getDescription() == null) {
            return status.withDescription("the hub's database did not answer within " + TIMEOUT.toSeconds() + " s; retry later");
        }
        return status;
    }
}
