package dev.meshhub.admin.impl;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.grpc.Status;

/**
 * The admin API's long calls (exec, sync pull and push) while they run, so that stopping the API
 * ends each with a clear status, while what runs behind it (the task, the transfer) goes on.
 */
final class LongCalls {

    /** A long call that can be let go of. */
    interface LongCall {
        /**
         * Ends the call with {@code status} without touching what it follows: no cancel reaches the
         * task or transfer. Idempotent.
         */
        void detach(Status status);
    }

    private final Set<LongCall> open = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    /**
     * Tracks a call.
     *
     * @return false when the API is stopping (the caller ends the call at once)
     */
    boolean add(LongCall call) {
        if (stopping) {
            return false;
        }
        open.add(call);
        if (stopping && open.remove(call)) {
            return false;
        }
        return true;
    }

    void remove(LongCall call) {
        open.remove(call);
    }

    /** Ends every tracked call; later {@link #add}s are refused. */
    void detachAll(Status status) {
        stopping = true;
        for (LongCall call : List.copyOf(open)) {
            open.remove(call);
            call.detach(status);
        }
    }

    int size() {
        return open.size();
    }
}
