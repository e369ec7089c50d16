package dev.meshhub.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Row 4's file: pseudo-random bytes (nothing compresses or dedups them), written once per run, with
 * the SHA-256 of the whole file and of each of its {@code slices} equal parts computed as it is
 * written.
 *
 * @param file   where it is
 * @param size   its size, a whole number of MiB per slice
 * @param sha256 SHA-256 of the whole file
 * @param slices SHA-256 of each slice, in order
 */
record SourceFile(Path file, long size, byte[] sha256, List<byte[]> slices) {

    private static final int BLOCK = 1024 * 1024;

    static SourceFile create(Path file, long size, int sliceCount) throws IOException {
        if (size % ((long) BLOCK * sliceCount) != 0) {
            throw new IllegalArgumentException("size " + size + " is not a whole number of MiB per slice");
        }
        long sliceSize = size / sliceCount;
        MessageDigest whole = newDigest();
        MessageDigest slice = newDigest();
        List<byte[]> slices = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(0x6d657368L);
        ByteBuffer block = ByteBuffer.allocate(BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long written = 0; written < size; written += BLOCK) {
                block.clear();
                while (block.hasRemaining()) {
                    block.putLong(random.nextLong());
                }
                block.flip();
                whole.update(block.duplicate());
                slice.update(block.duplicate());
                while (block.hasRemaining()) {
                    out.write(block);
                }
                if ((written + BLOCK) % sliceSize == 0) {
                    slices.add(slice.digest());
                }
            }
        }
        return new SourceFile(file, size, whole.digest(), List.copyOf(slices));
    }

    static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }
}
