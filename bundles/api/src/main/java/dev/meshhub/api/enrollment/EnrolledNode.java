package dev.meshhub.api.enrollment;

import java.time.Instant;

/**
 * A node the hub knows, connected or not.
 *
 * @param nodeId     the node's stable id
 * @param name       the node's unique name
 * @param enrolledAt when the node enrolled
 * @param revoked    whether an admin revoked it
 */
public record EnrolledNode(String nodeId, String name, Instant enrolledAt, boolean revoked) {
}
