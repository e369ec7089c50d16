package dev.meshhub.api.stats;

/**
 * What the dispatcher did since it started.
 *
 * @param dispatched     tasks accepted for a node
 * @param startSeconds   from the dispatch call to the node reporting the task started (journal, send and the node's
 *                       own start), per task that started
 * @param byKind         tasks accepted, by kind ({@code command}, {@code push}, ...): a handful of kinds
 */
public record DispatchStats(long dispatched, Distribution startSeconds, java.util.Map<String, Long> byKind) {

    public DispatchStats {
        byKind = java.util.Map.copyOf(byKind);
    }
}
