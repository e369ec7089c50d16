package dev.meshhub.api.stats;

/**
 * What the dispatcher did since it started.
 *
 * @param dispatched     tasks accepted for a node
 * @param startSeconds   from the dispatch call to the node reporting the task started (journal, send and the node's
 *                       own start), per task that started
 */
public record DispatchStats(long dispatched, Distribution startSeconds) {
}
