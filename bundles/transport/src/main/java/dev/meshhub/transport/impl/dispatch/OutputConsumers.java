package dev.meshhub.transport.impl.dispatch;

import java.util.concurrent.atomic.AtomicReference;

import dev.meshhub.api.output.TaskLogWriter;
import dev.meshhub.api.task.TaskOutput;
import dev.meshhub.api.task.TaskOutputListener;

/** The two kinds of {@link OutputFlow.Consumer}: a task's log, and the listener its caller gave. */
final class OutputConsumers {

    private OutputConsumers() {
    }

    /** The task's log on the hub's disk: a chunk is taken once the log wrote (or dropped) it. */
    static final class Log extends OutputFlow.Consumer {
        private final TaskLogWriter writer;
        /** Why the log stopped getting output before the task ended, or null. */
        private final AtomicReference<String> detachedBecause = new AtomicReference<>();

        Log(TaskLogWriter writer) {
            super("log");
            this.writer = writer;
        }

        TaskLogWriter writer() {
            return writer;
        }

        @Override
        void deliver(TaskOutput chunk, Runnable taken) {
            writer.append(chunk.stream(), chunk.data()).whenComplete((ok, failure) -> taken.run());
        }

        @Override
        void detached(String reason) {
            detachedBecause.set("the log fell behind and was left: " + reason);
        }

        /** Why the log was left before the task ended, or null. */
        String detachedBecause() {
            return detachedBecause.get();
        }
    }

    /** The caller's listener (an Exec call, an in-hub listener); paced by when it says a chunk is taken. */
    static final class Listener extends OutputFlow.Consumer {
        private final String taskId;
        private final TaskOutputListener listener;

        Listener(String taskId, TaskOutputListener listener) {
            super("listener");
            this.taskId = taskId;
            this.listener = listener;
        }

        @Override
        void deliver(TaskOutput chunk, Runnable taken) {
            listener.onOutput(chunk, taken);
        }

        @Override
        void detached(String reason) {
            listener.onDetached(reason + "; task " + taskId + " goes on, its output kept in its log on the hub"
                    + " ('meshctl task " + taskId + " --output', or --follow while it runs)");
        }
    }
}
