package dev.meshhub.policy.impl;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.meshhub.api.audit.AuditLog;

/** An audit log that keeps its rows in memory; it can hold records back, or fail them. */
final class RecordingAuditLog implements AuditLog {

    record Row(String actor, String action, String subject, String detail) {
    }

    enum Behaviour { COMPLETE, HOLD, FAIL }

    final List<Row> rows = new CopyOnWriteArrayList<>();
    final List<CompletableFuture<Void>> held = new CopyOnWriteArrayList<>();
    volatile Behaviour behaviour = Behaviour.COMPLETE;

    @Override
    public CompletionStage<Void> record(String actor, String action, String subject, String detail) {
        switch (behaviour) {
            case FAIL:
                return CompletableFuture.failedFuture(new IllegalStateException("disk full"));
            case HOLD:
                rows.add(new Row(actor, action, subject, detail));
                CompletableFuture<Void> future = new CompletableFuture<>();
                held.add(future);
                return future;
            default:
                rows.add(new Row(actor, action, subject, detail));
                return CompletableFuture.completedFuture(null);
        }
    }
}
