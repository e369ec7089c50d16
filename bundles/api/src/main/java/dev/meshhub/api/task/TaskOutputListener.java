package dev.meshhub.api.task;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives a task's output as it arrives. Called on a hub thread that must not block: hand the
 * chunk off quickly.
 *
 * <p>Output is paced end to end: the node sends a task's output only as fast as every consumer takes
 * it (the task's log and its listener), so a listener that takes chunks slowly slows the task's
 * process on the node (its pipe fills and it waits in {@code write}), never the hub's memory or other
 * tasks. A listener that takes nothing for the hub's stall limit is {@linkplain #onDetached detached};
 * the task goes on.
 */
@ConsumerType
@FunctionalInterface
public interface TaskOutputListener {

    /** One chunk, in order; taken when this returns. */
    void onOutput(TaskOutput output);

    /**
     * One chunk, in order; taken when {@code taken} runs, which the listener may do later and from any
     * thread (for example once the chunk is written to a network stream). Until then the task's further
     * output waits on the node. The default calls {@link #onOutput(TaskOutput)} and then {@code taken}.
     *
     * @since 1.6
     */
    default void onOutput(TaskOutput output, Runnable taken) {
        onOutput(output);
        taken.run();
    }

    /**
     * The hub stopped giving this listener output because it took nothing for the hub's stall limit
     * ({@code reason} says how long and from which byte the task's log continues). The task goes on;
     * no more output comes to this listener. Called at most once, on a hub thread. Default: nothing.
     *
     * @since 1.6
     */
    default void onDetached(String reason) {
    }

    /** A listener that drops everything. */
    TaskOutputListener NONE = output -> {
    };
}
