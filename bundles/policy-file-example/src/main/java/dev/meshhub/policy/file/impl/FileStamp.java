package dev.meshhub.policy.file.impl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What a cheap stat tells about a file: when it was last modified and how long it is. A different
 * stamp means the file is read again.
 */
record FileStamp(long modifiedMillis, long size) {

    /** The stamp of a file that cannot be stat'ed (missing, not readable). */
    static final FileStamp MISSING = new FileStamp(-1, -1);

    /** The file's stamp, or {@link #MISSING}. */
    static FileStamp of(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return new FileStamp(attributes.lastModifiedTime().toMillis(), attributes.size());
        } catch (IOException | SecurityException e) {
            return MISSING;
        }
    }
}
