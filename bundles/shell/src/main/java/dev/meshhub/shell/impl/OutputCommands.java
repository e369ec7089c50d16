package dev.meshhub.shell.impl;

import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.TimeUnit;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.output.TaskLogInfo;
import dev.meshhub.api.output.TaskLogReader;
import dev.meshhub.api.output.TaskLogs;
import dev.meshhub.api.task.TaskOutput;

/**
 * {@code mesh:output}: a task's whole output from its log, in the hub's console, as meshctl task ID
 * --output prints it. Runs on the shell's thread; following waits until the task ends (or Ctrl-C).
 */
@Component(service = OutputCommands.class, property = {
        "osgi.command.scope=mesh",
        "osgi.command.function=output"})
public class OutputCommands {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile TaskLogs logs;

    @Descriptor("print a task's whole output from its log on the hub (stdout and stderr as they arrived)")
    public void output(
            @Descriptor("keep printing while the task runs, until it ends") @Parameter(names = {"-f", "--follow"},
                    presentValue = "true", absentValue = "false") boolean follow,
            @Descriptor("only what it wrote to stderr") @Parameter(names = {"-e", "--stderr-only"},
                    presentValue = "true", absentValue = "false") boolean stderrOnly,
            @Descriptor("start at this output byte") @Parameter(names = {"-o", "--offset"}, absentValue = "0") long offset,
            @Descriptor("the task id") String taskId) throws Exception {
        TaskLogs current = logs;
        if (current == null) {
            throw new IllegalStateException("the hub keeps no task logs (start the meshhub-task-logs feature);"
                    + " mesh:task shows the journal's output tail");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("--offset must be 0 or more");
        }
        PrintStream out = System.out;
        TaskLogInfo info;
        try (TaskLogReader reader = current.read(taskId, offset)) {
            long position = offset;
            while (true) {
                TaskLogReader.Chunk chunk = reader.next();
                if (chunk != null) {
                    position = chunk.offset() + chunk.data().length;
                    if (!stderrOnly || chunk.stream() == TaskOutput.Stream.STDERR) {
                        out.write(chunk.data(), 0, chunk.data().length);
                    }
                    continue;
                }
                out.flush();
                info = reader.info();
                if (!follow || !info.open()) {
                    break;
                }
                // Bounded wait so Ctrl-C (an interrupt) is seen at least every second.
                try {
                    current.grown(taskId, position).toCompletableFuture().get(1, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException stillQuiet) {
                    // look again
                }
            }
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no output log of task '" + taskId + "' on the hub (unknown task, or removed by"
                    + " retention); mesh:task shows the journal's output tail");
        }
        if (info.truncated()) {
            out.println();
            out.println("(the log holds " + info.loggedBytes() + " of " + info.outputBytes() + " bytes of output: " + info.truncation() + ")");
        }
    }
}
