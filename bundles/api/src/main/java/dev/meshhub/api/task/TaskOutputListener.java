package dev.meshhub.api.task;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Receives a task's output as it arrives. Called on a hub thread that must not block: hand the
 * chunk off quickly.
 */
@ConsumerType
@FunctionalInterface
public interface TaskOutputListener {

    /** One chunk, in order. */
    void onOutput(TaskOutput output);

    /** A listener that drops everything. */
    TaskOutputListener NONE = output -> {
    };
}
