package dev.meshhub.tasklogs.impl;

import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a task's log lives: {@code <root>/<shard>/<task id>.log}, the shard being the first two
 * characters of the id after its {@code t-} prefix (or of the whole id), lowercased, so that no
 * directory holds more than a small share of the logs.
 */
final class TaskLogNames {

    static final String SUFFIX = ".log";
    private static final String PREFIX = "t-";
    private static final Pattern TASK_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");
    /** How much of a refused id a message repeats. */
    private static final int QUOTED = 40;

    private TaskLogNames() {
    }

    /**
     * The id, if usable as a log name.
     *
     * @throws IllegalArgumentException if it is not 1 to 128 letters, digits, '-' or '_'
     */
    static String check(String taskId) {
        if (taskId == null || !TASK_ID.matcher(taskId).matches()) {
            throw new IllegalArgumentException("task id " + quote(taskId) + " is not usable as a log name: it must be 1 to"
                    + " 128 letters, digits, '-' or '_'");
        }
        return taskId;
    }

    /** The shard directory's name of a valid id. */
    static String shard(String taskId) {
        String base = taskId.startsWith(PREFIX) && taskId.length() > PREFIX.length() ? taskId.substring(PREFIX.length()) : taskId;
        return base.substring(0, Math.min(2, base.length())).toLowerCase(Locale.ROOT);
    }

    /** The log file of a valid id. */
    static Path path(Path root, String taskId) {
        return root.resolve(shard(taskId)).resolve(taskId + SUFFIX);
    }

    /** The task id a file in shard directory {@code shard} is the log of, or null if it is no log's name. */
    static String taskIdOf(String shard, String fileName) {
        if (!fileName.endsWith(SUFFIX)) {
            return null;
        }
        String id = fileName.substring(0, fileName.length() - SUFFIX.length());
        return TASK_ID.matcher(id).matches() && shard(id).equals(shard) ? id : null;
    }

    private static String quote(String taskId) {
        if (taskId == null) {
            return "null";
        }
        String shown = taskId.length() > QUOTED ? taskId.substring(0, QUOTED) + "... (" + taskId.length() + " characters)" : taskId;
        return "'" + shown + "'";
    }
}
