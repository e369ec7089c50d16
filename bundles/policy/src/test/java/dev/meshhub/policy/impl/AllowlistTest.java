package dev.meshhub.policy.impl;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.util.List;

import org.junit.Test;

public class AllowlistTest {

    @Test
    public void entriesAreSplitOnCommasTrimmedAndDeduplicated() {
        assertEquals(List.of("echo", "ls", "/usr/bin/uptime"),
                Allowlist.parse("k", new String[] {" echo, ls", "", "/usr/bin/uptime,echo ,", null}));
        assertEquals(List.of(), Allowlist.parse("k", null));
    }

    @Test
    public void entriesThatCanNeverMatchAreRefused() {
        for (String bad : List.of("bin/ls", "/usr/../bin/sh", "/usr/bin/", "-rf", "..", "my prog", "a\u0000b")) {
            IllegalArgumentException refused = assertThrows(bad, IllegalArgumentException.class,
                    () -> Allowlist.parse("allowedExecutables", new String[] {bad}));
            assertEquals(true, refused.getMessage().startsWith("allowedExecutables: '"));
        }
    }

    @Test
    public void programsThatRunOtherProgramsAreFound() {
        assertEquals(List.of("sh", "/usr/bin/env", "python3.12", "xargs"),
                Allowlist.launchers(List.of("echo", "sh", "/usr/bin/env", "python3.12", "ls", "xargs")));
    }
}
