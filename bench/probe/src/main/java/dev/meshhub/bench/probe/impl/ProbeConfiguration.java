package dev.meshhub.bench.probe.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * What the probe measures (PID {@value #PID}). Every change of {@link #run()} starts one measurement;
 * its figures go to {@link #output()}.
 */
@ObjectClassDefinition(id = ProbeConfiguration.PID, name = "meshhub benchmark probe",
        description = "Dispatches 'echo' tasks through the hub's TaskDispatcher and records hub send to result"
                + " latency with HdrHistogram. Benchmark tooling: never deploy it on a hub in service.")
public @interface ProbeConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.bench.probe";
    /** One task at a time: dispatch, wait for the result, dispatch the next. */
    String MODE_ROUND_TRIP = "roundtrip";
    /** Open loop at rising fixed rates until the p99 limit is exceeded. */
    String MODE_RATE_SWEEP = "sweep";
    /** Benchmarks 4 and 6: the hub's heap after a full GC (a few readings, their median). */
    String MODE_HEAP = "heap";
    /** Benchmark 6, in-process: take and give up IO locks in the hub's LockRegistry, as abandoned syncs do. */
    String MODE_LOCK_CHURN = "lockchurn";
    String DEFAULT_RATES = "125,250,500,1000,2000,4000,8000,16000,32000";

    @AttributeDefinition(name = "Run", description = "Id of this measurement; a new id starts a new one.")
    String run();

    @AttributeDefinition(name = "Mode", description = MODE_ROUND_TRIP + ", " + MODE_RATE_SWEEP + ", " + MODE_HEAP + " or "
            + MODE_LOCK_CHURN + ".")
    String mode() default MODE_ROUND_TRIP;

    @AttributeDefinition(name = "Nodes", required = false,
            description = "Node names (or ids), comma-separated; a sweep spreads tasks over them round robin."
                    + " Needed by " + MODE_ROUND_TRIP + " and " + MODE_RATE_SWEEP + " only.")
    String nodes() default "";

    @AttributeDefinition(name = "Output", description = "Result file (Java properties), relative to the hub's home.")
    String output();

    @AttributeDefinition(name = "Warm-up tasks", description = "Round trip: tasks run first and not recorded.")
    int warmup() default 200;

    @AttributeDefinition(name = "Count", description = "Round trip: tasks recorded.")
    int count() default 2000;

    @AttributeDefinition(name = "Rates", description = "Sweep: offered rates in tasks/s, comma-separated, rising.")
    String rates() default DEFAULT_RATES;

    @AttributeDefinition(name = "Step (ms)", description = "Sweep: how long each rate is recorded.")
    int stepMs() default 2000;

    @AttributeDefinition(name = "Step warm-up (ms)",
            description = "Sweep: how long each rate is offered before recording starts.")
    int stepWarmupMs() default 500;

    @AttributeDefinition(name = "Least recorded tasks",
            description = "Sweep: a low rate is recorded longer (up to 4 steps) so that its p99 rests on at least this many tasks.")
    int minRecorded() default 500;

    @AttributeDefinition(name = "Sweep warm-up tasks",
            description = "Sweep: tasks run first, unrecorded, one in flight per node; 0 for none.")
    int sweepWarmupTasks() default 0;

    @AttributeDefinition(name = "Sweep warm-up (ms)", description = "Sweep: the warm-up ends after this long at the latest.")
    int sweepWarmupMs() default 5000;

    @AttributeDefinition(name = "p99 limit (ms)", description = "Sweep: a rate passes while its p99 is at most this.")
    double p99LimitMs() default 10.0;

    @AttributeDefinition(name = "Payload bytes", description = "Length of the argument given to echo.")
    int payloadBytes() default 64;

    @AttributeDefinition(name = "Task timeout (ms)", description = "Each task's timeout, and how long the probe waits for it.")
    int taskTimeoutMs() default 30_000;

    @AttributeDefinition(name = "Heap readings", description = "Heap: full GCs, each followed by one reading of the heap used.")
    int heapReadings() default 5;

    @AttributeDefinition(name = "Lock churn count", description = "Lock churn: syncs simulated (one lock taken and given up each).")
    int churnCount() default 1_000_000;

    @AttributeDefinition(name = "Lock churn keys",
            description = "Lock churn: distinct keys used in rotation (like the files of a node being synced over and over).")
    int churnKeys() default 4096;

    @AttributeDefinition(name = "Lock churn TTL (ms)", description = "Lock churn: TTL of the locks that are released.")
    int churnTtlMs() default 300_000;

    @AttributeDefinition(name = "Lock churn leak every",
            description = "Lock churn: every Nth sync also takes a lock on a key of its own and never releases it"
                    + " (a holder that died), left to the expiry sweep; 0 for none.")
    int churnLeakEvery() default 0;

    @AttributeDefinition(name = "Lock churn leak TTL (ms)", description = "Lock churn: TTL of the leaked locks.")
    int churnLeakTtlMs() default 2_000;
}
