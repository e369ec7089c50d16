package dev.meshhub.node;

import dev.meshhub.proto.v1.TaskFinished;

/**
 * A task the {@link TaskSupervisor} has started and not yet seen finish: a command's process tree
 * ({@link RunningTask}) or a file being fetched ({@link RunningDownload}). Called on the agent's
 * thread only.
 */
interface SupervisedTask {

    String id();

    /**
     * Ends the task and reports {@code outcome} once nothing of it runs any more. The first stop
     * wins; later ones are ignored.
     */
    void stop(TaskFinished.Outcome outcome, String reason);

    /**
     * The session that could carry the result is gone: end the task, report nothing more.
     *
     * @param maxGraceMs cap on the grace a process tree gets between SIGTERM and SIGKILL
     */
    void abandon(long maxGraceMs);
}
