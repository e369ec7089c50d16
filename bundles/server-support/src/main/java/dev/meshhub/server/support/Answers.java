package dev.meshhub.server.support;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * Answers unary calls from whichever thread has the result. The caller may have gone away
 * (cancelled, deadline passed) by then; that is logged at DEBUG, not thrown.
 */
public final class Answers {

    private static final Logger LOG = LoggerFactory.getLogger(Answers.class);

    private Answers() {
    }

    public static <T> void complete(StreamObserver<T> observer, T value) {
        try {
            observer.onNext(value);
            observer.onCompleted();
        } catch (StatusRuntimeException | IllegalStateException callAlreadyOver) {
            LOG.debug("caller went away before the answer: {}", callAlreadyOver.toString());
        }
    }

    public static <T> void fail(StreamObserver<T> observer, Status status) {
        try {
            observer.onError(status.asRuntimeException());
        } catch (StatusRuntimeException | IllegalStateException callAlreadyOver) {
            LOG.debug("caller went away before the answer: {}", callAlreadyOver.toString());
        }
    }

    /** Caps text from elsewhere (a node, a request) before it goes into a message or a log line. */
    public static String shorten(String text, int max) {
        return text.length() > max ? text.substring(0, max) + "..." : text;
    }
}
