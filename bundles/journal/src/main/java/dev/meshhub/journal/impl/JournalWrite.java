package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One write and its caller's stage. The outcome is decided inside the batch and handed to the
 * caller only after the commit.
 */
abstract class JournalWrite<T> {

    /** SQL of one write, run in the batch's transaction. */
    @FunctionalInterface
    interface Work<T> {
        /**
         * @param now the batch's time, from the journal's clock
         * @throws IllegalStateException to refuse this write alone (it then fails with this exception)
         */
        T apply(Connection connection, Instant now) throws SQLException;
    }

    private final String what;
    private final CompletableFuture<T> result = new CompletableFuture<>();
    private T value;
    private RuntimeException refusal;

    JournalWrite(String what) {
        this.what = what;
    }

    static <T> JournalWrite<T> of(String what, Work<T> work) {
        return new JournalWrite<>(what) {
            @Override
            T apply(Connection connection, Instant now) throws SQLException {
                return work.apply(connection, now);
            }
        };
    }

    /** Runs the write's SQL; see {@link Work#apply}. */
    abstract T apply(Connection connection, Instant now) throws SQLException;

    /** Completes the caller's stage; a write standing for several callers completes each. */
    void succeed(T outcome) {
        result.complete(outcome);
    }

    void fail(RuntimeException failure) {
        result.completeExceptionally(failure);
    }

    final String what() {
        return what;
    }

    /** What the caller holds: it cannot complete or cancel the journal's future. */
    final CompletionStage<T> stage() {
        return result.minimalCompletionStage();
    }

    final boolean isDone() {
        return result.isDone();
    }

    void applyIn(Connection connection, Instant now) throws SQLException {
        value = null;
        refusal = null;
        value = apply(connection, now);
    }

    void refuse(RuntimeException failure) {
        refusal = failure;
    }

    void complete() {
        if (refusal != null) {
            fail(refusal);
        } else {
            succeed(value);
        }
    }
}
