package dev.meshhub.api.stats;

/**
 * What the task journal's writer did since it started.
 *
 * @param commits          transactions committed
 * @param writesCommitted  writes (task creates, state changes, output, audit rows) in them
 * @param commitSeconds    how long each commit took (the database's log force: the disk sync)
 * @param writesPerCommit  writes per commit (group commit's batch sizes)
 */
public record JournalStats(long commits, long writesCommitted, Distribution commitSeconds, Distribution writesPerCommit) {
}
