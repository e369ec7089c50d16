package dev.meshhub.api.enrollment;

/**
 * The outcome of a successful enrollment.
 *
 * @param node       the enrolled node
 * @param credential the node's durable credential; the hub keeps only its hash, so this is the only copy
 */
public record Enrollment(EnrolledNode node, String credential) {
    @Override
    public String toString() {
        return "Enrollment[node=" + node + "]";
    }
}
