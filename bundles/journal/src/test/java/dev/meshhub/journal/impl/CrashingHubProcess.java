package dev.meshhub.journal.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import dev.meshhub.api.task.TaskRecord;
import dev.meshhub.api.task.TaskState;

/**
 * Started in its own JVM by {@link CrashRecoveryTest}: journals tasks in every stage of their life,
 * prints {@value #READY}, then keeps creating tasks and prints {@value #DURABLE} and the id of each
 * once its stage has completed (it is committed), until the test kills the JVM. It never closes the
 * journal: the kill is the hub crash.
 */
public final class CrashingHubProcess {

    static final String READY = "ready";
    static final String DURABLE = "durable ";
    static final String OUTPUT = "output before the crash";
    private static final int MOST_BURSTS = 100_000;

    private CrashingHubProcess() {
    }

    public static void main(String[] args) throws Exception {
        exitWhenTheTestGoesAway();
        JournalDatabase database = JournalDatabase.open(Path.of(args[0]), Clock.systemUTC(), 2, 1024);
        DerbyTaskJournal tasks = new DerbyTaskJournal(database, Clock.systemUTC(), TaskJournalSettings.DEFAULTS);
        for (String id : List.of("queued", "dispatched", "running", "succeeded")) {
            await(tasks.create(JournalFixture.newTask(id, "n-1")));
        }
        await(tasks.transition("dispatched", TaskState.DISPATCHED, null, ""));
        await(tasks.transition("running", TaskState.DISPATCHED, null, ""));
        await(tasks.transition("running", TaskState.RUNNING, null, ""));
        await(tasks.appendOutput("running", OUTPUT.getBytes(StandardCharsets.UTF_8)));
        await(tasks.transition("succeeded", TaskState.RUNNING, null, ""));
        await(tasks.transition("succeeded", TaskState.SUCCEEDED, 0, "done"));
        System.out.println(READY);
        System.out.flush();
        for (int burst = 0; burst < MOST_BURSTS; burst++) {
            List<CompletionStage<TaskRecord>> created = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                created.add(tasks.create(JournalFixture.newTask("burst-" + burst + "-" + i, "n-2")));
            }
            for (CompletionStage<TaskRecord> stage : created) {
                System.out.println(DURABLE + await(stage).taskId());
            }
            System.out.flush();
        }
        // Not reached in the test; never a clean shutdown either way.
        Runtime.getRuntime().halt(1);
    }

    private static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(JournalFixture.WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** If the test JVM dies first, its end of standard input closes: stop rather than run on. */
    private static void exitWhenTheTestGoesAway() {
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // nothing is ever sent
                }
            } catch (IOException e) {
                // treated as gone
            }
            Runtime.getRuntime().halt(2);
        }, "stdin-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }
}
