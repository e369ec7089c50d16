package dev.meshhub.journal.impl;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.meshhub.api.task.TaskState;

/**
 * How the task journal's writes that wait together are applied: fewer statements for the same
 * outcome. Output appends to one task become one UPDATE, placed where its first append was; a task's
 * start followed in the same batch by its end (a quick task: the node reports both at once) becomes
 * one UPDATE, placed where the end was. Every other write keeps its place, and every caller still
 * gets its own outcome.
 */
final class BatchPlan {

    private static final Logger LOG = LoggerFactory.getLogger(BatchPlan.class);

    private BatchPlan() {
    }

    /** The units to apply for the writes {@code taken} from the queue, in order. */
    static List<JournalWrite<?>> plan(List<JournalWrite<?>> taken, int tailBytes) {
        return foldStartAndEnd(mergeOutput(taken, tailBytes));
    }

    /** Merges the output appends to each task into one write, placed where the task's first append was. */
    static List<JournalWrite<?>> mergeOutput(List<JournalWrite<?>> taken, int tailBytes) {
        List<JournalWrite<?>> units = new ArrayList<>(taken.size());
        Map<String, MergedOutput> merged = new LinkedHashMap<>();
        for (JournalWrite<?> write : taken) {
            if (write instanceof OutputAppend append) {
                MergedOutput group = merged.get(append.taskId);
                if (group == null) {
                    group = new MergedOutput(append.taskId, tailBytes);
                    merged.put(append.taskId, group);
                    units.add(group);
                }
                group.add(append);
            } else {
                units.add(write);
            }
        }
        return units;
    }

    /**
     * Folds a RUNNING change directly followed (among the task's state changes) by the task's end into
     * one write at the end's place. Output appended between them stays before the end, as it was.
     */
    static List<JournalWrite<?>> foldStartAndEnd(List<JournalWrite<?>> units) {
        Map<String, Integer> lastChange = new HashMap<>();
        List<JournalWrite<?>> planned = new ArrayList<>(units);
        boolean folded = false;
        for (int i = 0; i < planned.size(); i++) {
            if (!(planned.get(i) instanceof StateChange change)) {
                continue;
            }
            Integer previous = lastChange.put(change.taskId, i);
            if (previous != null && change.state.isTerminal() && planned.get(previous) instanceof StateChange start
                    && start.state == TaskState.RUNNING) {
                planned.set(previous, null);
                planned.set(i, new StartAndEnd(start, change));
                folded = true;
            }
        }
        if (folded) {
            planned.removeIf(java.util.Objects::isNull);
        }
        return planned;
    }

    /** A task's move to a new state, as the caller asked it. */
    abstract static class StateChange extends JournalWrite<Boolean> {
        final String taskId;
        final TaskState state;
        final Integer exitCode;
        final String diagnostic;

        /**
         * @param exitCode   for terminal states (else null)
         * @param diagnostic for terminal states why; for RUNNING the program the node ran
         */
        StateChange(String taskId, TaskState state, Integer exitCode, String diagnostic) {
            super("task.transition");
            this.taskId = taskId;
            this.state = state;
            this.exitCode = exitCode;
            this.diagnostic = diagnostic;
        }

        @Override
        Boolean apply(Connection connection, Instant now) throws SQLException {
            return TaskTable.transition(connection, taskId, state, exitCode, diagnostic, now);
        }
    }

    /** A task's start and its end in one UPDATE when it had not started yet; else the end alone. */
    private static final class StartAndEnd extends JournalWrite<Boolean> {
        private final StateChange start;
        private final StateChange end;
        private boolean started;

        StartAndEnd(StateChange start, StateChange end) {
            super("task.transition");
            this.start = start;
            this.end = end;
        }

        @Override
        Boolean apply(Connection connection, Instant now) throws SQLException {
            started = TaskTable.startAndEnd(connection, end.taskId, start.diagnostic, end.state, end.exitCode, end.diagnostic, now);
            // Not folded (started or ended before, or unknown): the end alone says what it did, or that there is no task.
            return started || TaskTable.transition(connection, end.taskId, end.state, end.exitCode, end.diagnostic, now);
        }

        @Override
        void succeed(Boolean ended) {
            start.succeed(started);
            end.succeed(ended);
        }

        @Override
        void fail(RuntimeException failure) {
            start.fail(failure);
            end.fail(failure);
        }
    }

    /** One caller's output chunk. Applied alone only if it was not merged. */
    static final class OutputAppend extends JournalWrite<Void> {
        private final String taskId;
        private final byte[] data;
        private final int tailBytes;

        OutputAppend(String taskId, byte[] data, int tailBytes) {
            super("task.output");
            this.taskId = taskId;
            this.data = data;
            this.tailBytes = tailBytes;
        }

        @Override
        Void apply(Connection connection, Instant now) throws SQLException {
            if (!TaskTable.appendOutput(connection, taskId, data, tailBytes)) {
                LOG.debug("output of task {} arrived after it ended; dropped", taskId);
            }
            return null;
        }
    }

    /** The appends to one task in one batch: one UPDATE, and every caller gets its outcome. */
    private static final class MergedOutput extends JournalWrite<Void> {
        private final String taskId;
        private final int tailBytes;
        private final List<OutputAppend> appends = new ArrayList<>();
        private byte[] tail = new byte[0];

        MergedOutput(String taskId, int tailBytes) {
            super("task.output");
            this.taskId = taskId;
            this.tailBytes = tailBytes;
        }

        void add(OutputAppend append) {
            appends.add(append);
            tail = TaskTable.tail(tail, append.data, tailBytes);
        }

        @Override
        Void apply(Connection connection, Instant now) throws SQLException {
            if (!TaskTable.appendOutput(connection, taskId, tail, tailBytes)) {
                LOG.debug("output of task {} arrived after it ended; dropped", taskId);
            }
            return null;
        }

        @Override
        void succeed(Void outcome) {
            for (OutputAppend append : appends) {
                append.succeed(outcome);
            }
        }

        @Override
        void fail(RuntimeException failure) {
            for (OutputAppend append : appends) {
                append.fail(failure);
            }
        }
    }
}
