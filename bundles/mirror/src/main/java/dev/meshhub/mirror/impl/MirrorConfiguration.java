package dev.meshhub.mirror.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the file mirror (PID {@value #PID}). The cleanup task's schedule is not here: it
 * is the component's {@code meshhub.management.*} service properties, which the same {@code .cfg}
 * file may override (for example {@code meshhub.management.period = 30}).
 */
@ObjectClassDefinition(id = MirrorConfiguration.PID, name = "meshhub file mirror",
        description = "Where node files are mirrored (<mirrorDirectory>/<node id>/<path>), how much each node"
                + " may store, how much free disk is kept, and how long abandoned partial uploads are kept.")
public @interface MirrorConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.mirror";
    String DEFAULT_MIRROR_DIRECTORY = "data/mirror";
    long DEFAULT_QUOTA_BYTES = 10L * 1024 * 1024 * 1024;
    long DEFAULT_RESERVE_BYTES = 1024L * 1024 * 1024;
    long DEFAULT_MAX_FILES_PER_NODE = 100_000;
    long DEFAULT_PARTIAL_TTL_MINUTES = 24 * 60;
    /** One year: long enough for any real use, short enough that the arithmetic never overflows. */
    long MAX_PARTIAL_TTL_MINUTES = 366L * 24 * 60;

    @AttributeDefinition(name = "Mirror directory",
            description = "Where node files are mirrored (created if missing); a relative path is resolved"
                    + " against the framework property meshhub.home, or the working directory if that is not set."
                    + " It may itself be a symlink (to a bigger disk); symlinks inside it are never followed.")
    String mirrorDirectory() default DEFAULT_MIRROR_DIRECTORY;

    @AttributeDefinition(name = "Quota per node (bytes)", min = "1",
            description = "Most bytes one node's mirror may hold, complete files and partial uploads together."
                    + " A file being replaced counts twice until its upload finishes.")
    long quotaBytes() default DEFAULT_QUOTA_BYTES;

    @AttributeDefinition(name = "Files per node", min = "1",
            description = "Most files and directories one node's mirror may hold (partial uploads included), so a node"
                    + " cannot use up the disk's inodes with empty files.")
    long maxFilesPerNode() default DEFAULT_MAX_FILES_PER_NODE;

    @AttributeDefinition(name = "Free-disk reserve (bytes)", min = "0",
            description = "Uploads are refused rather than leave less than this free on the mirror's disk.")
    long reserveBytes() default DEFAULT_RESERVE_BYTES;

    @AttributeDefinition(name = "Partial upload TTL (minutes)", min = "1", max = "527040",
            description = "An interrupted upload is kept this long after its last write so the node can resume"
                    + " it; the mirror-cleanup task then removes it (1 minute to 366 days).")
    long partialTtlMinutes() default DEFAULT_PARTIAL_TTL_MINUTES;

    @AttributeDefinition(name = "Remove revoked nodes' mirrors",
            description = "Whether the mirror-cleanup task deletes the files of nodes that were revoked.")
    boolean removeRevokedMirrors() default true;
}
