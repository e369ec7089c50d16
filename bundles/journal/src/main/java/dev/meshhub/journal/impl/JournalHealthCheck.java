package dev.meshhub.journal.impl;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.felix.hc.api.HealthCheck;
import org.apache.felix.hc.api.Result;
import org.apache.felix.hc.api.ResultLog;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.meshhub.api.task.TaskJournal;

/**
 * The journal's health check (Felix Health Checks, {@code hc.name = journal}): CRITICAL when the
 * journal is not serving or cannot create a file in its database or log directory (a read-only or
 * failed disk: the next log switch or checkpoint would fail), or when its disk is nearly full; WARN
 * when the write backlog passes 80% of the queue or the disk runs low. Runs on the health check
 * executor's threads, never on a gRPC thread; a probe is one empty file created and deleted.
 */
@Component(service = HealthCheck.class, configurationPid = JournalConfiguration.PID,
        property = {HealthCheck.NAME + "=journal", HealthCheck.TAGS + "=meshhub"})
public final class JournalHealthCheck implements HealthCheck {

    /** Below this much free space the journal's disk is CRITICAL. */
    static final long CRITICAL_FREE_BYTES = 64L << 20;
    /** Below this much free space it is a WARN. */
    static final long WARN_FREE_BYTES = 512L << 20;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile TaskJournal journal;

    private volatile Path directory;
    private volatile int writeQueueCapacity;

    @Activate
    @Modified
    void configure(BundleContext context, JournalConfiguration config) {
        directory = JournalSettings.resolve(config.databaseDirectory(), config.dbThreads(), config.queueCapacity(),
                context.getProperty(JournalComponent.HOME_PROPERTY), Path.of("").toAbsolutePath()).databaseDirectory();
        writeQueueCapacity = config.writeQueueCapacity();
    }

    @Override
    public Result execute() {
        return check(journal, directory, writeQueueCapacity);
    }

    /** The check itself, for a journal (null: not serving) on {@code directory}. */
    static Result check(TaskJournal journal, Path directory, int writeQueueCapacity) {
        ResultLog log = new ResultLog();
        if (journal == null) {
            log.add(new ResultLog.Entry(Result.Status.CRITICAL, "the task journal is not serving (bundle dev.meshhub.journal"
                    + " stopped, or its configuration refused: see the hub's log)"));
            return new Result(log);
        }
        List<Path> probed = new ArrayList<>(List.of(directory));
        if (Files.isDirectory(directory.resolve("log"))) {
            probed.add(directory.resolve("log"));
        }
        for (Path each : probed) {
            try {
                Files.delete(Files.createTempFile(each, ".health", ".probe"));
            } catch (IOException | RuntimeException e) {
                log.add(new ResultLog.Entry(Result.Status.CRITICAL, "cannot create a file in " + each + " (" + e
                        + "): the journal cannot commit once its log needs a new file; make the directory writable"
                        + " (or remount the disk read-write) and the check recovers by itself"));
            }
        }
        try {
            FileStore store = Files.getFileStore(directory);
            long free = store.getUsableSpace();
            Result.Status status = free < CRITICAL_FREE_BYTES ? Result.Status.CRITICAL
                    : free < WARN_FREE_BYTES ? Result.Status.WARN : Result.Status.OK;
            log.add(new ResultLog.Entry(status, String.format(java.util.Locale.ROOT, "%,d MiB free on the journal's disk (%s)",
                    free >> 20, directory)));
        } catch (IOException e) {
            log.add(new ResultLog.Entry(Result.Status.CRITICAL, "cannot read the free space of " + directory + ": " + e));
        }
        long backlog = journal.writeBacklog();
        log.add(new ResultLog.Entry(backlog > writeQueueCapacity * 0.8 ? Result.Status.WARN : Result.Status.OK,
                "write backlog " + backlog + " of a queue of " + writeQueueCapacity));
        return new Result(log);
    }
}
