package dev.meshhub.bench.probe.impl;

import java.time.Duration;

import dev.meshhub.api.task.CommandSpec;

/** The task every measurement dispatches: {@code echo} with an argument of a fixed length. */
final class Payload {

    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

    private Payload() {
    }

    /**
     * @param bytes length of the argument; letters and digits only, so STRICT policy accepts it
     */
    static CommandSpec echo(int bytes, Duration timeout) {
        StringBuilder argument = new StringBuilder(bytes);
        for (int i = 0; i < bytes; i++) {
            argument.append(ALPHABET.charAt(i % ALPHABET.length()));
        }
        return CommandSpec.argv("echo", argument.toString()).withTimeout(timeout);
    }
}
