package dev.meshhub.admin.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class AdminTokenTest {

    @Rule
    public TemporaryFolder folder = new TemporaryFolder();

    @Test
    public void firstStartGeneratesAnOwnerOnlyTokenThatLaterStartsReuse() throws Exception {
        Path file = folder.getRoot().toPath().resolve("etc/admin.token");
        AdminToken created = AdminToken.loadOrCreate(file);
        String value = Files.readString(file, StandardCharsets.US_ASCII).trim();

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue(value.startsWith(AdminToken.PREFIX));
        assertTrue("256 random bits", value.length() >= AdminToken.PREFIX.length() + 43);
        assertTrue(created.matches(value));
        assertFalse(created.matches(value + "x"));
        assertFalse(created.matches(null));
        try (var temps = Files.list(file.getParent())) {
            assertEquals("no temp file left behind", 1, temps.count());
        }

        AdminToken reloaded = AdminToken.loadOrCreate(file);
        assertTrue(reloaded.matches(value));
    }

    @Test
    public void aTokenFileReadableByOthersIsTightened() throws Exception {
        Path file = folder.newFile("admin.token").toPath();
        Files.writeString(file, "mha." + "a".repeat(43) + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        AdminToken.loadOrCreate(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    public void anEmptyTokenFileIsRefusedWithWhatToDo() throws Exception {
        Path file = folder.newFile("admin.token").toPath();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AdminToken.loadOrCreate(file));
        assertTrue(e.getMessage(), e.getMessage().contains("delete it and restart"));
    }
}
