package dev.meshhub.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.function.Function;

/**
 * The admin token and where it came from. {@link #toString()} never shows the token.
 *
 * <p>Looked up in this order, first match wins:
 * <ol>
 *   <li>{@code --token-file FILE};</li>
 *   <li>{@code MESHHUB_ADMIN_TOKEN} (the token itself);</li>
 *   <li>{@code MESHHUB_ADMIN_TOKEN_FILE} (a file holding it);</li>
 *   <li>{@code <hub home>/etc/admin.token}, the hub home being {@code MESHHUB_HOME}, else the
 *       system property {@code meshhub.home} (set by {@code bin/meshctl}).</li>
 * </ol>
 */
final class AdminToken {

    static final String ENV_TOKEN = "MESHHUB_ADMIN_TOKEN";
    static final String ENV_TOKEN_FILE = "MESHHUB_ADMIN_TOKEN_FILE";
    static final String ENV_HOME = "MESHHUB_HOME";
    static final String PROP_HOME = "meshhub.home";
    /** Relative to the hub home. */
    static final String TOKEN_FILE_IN_HOME = "etc/admin.token";

    private final String value;
    private final String origin;

    private AdminToken(String value, String origin) {
        this.value = value;
        this.origin = origin;
    }

    /** The secret; goes into the authorization header only. */
    String value() {
        return value;
    }

    /** Where the token came from, for messages: a file path or an environment variable. */
    String origin() {
        return origin;
    }

    @Override
    public String toString() {
        return "AdminToken[from " + origin + "]";
    }

    /**
     * Finds the token.
     *
     * @throws CliException (exit 2) naming the source and how to fix it
     */
    static AdminToken resolve(Path tokenFileOption, Map<String, String> env, Function<String, String> sysProps) {
        if (tokenFileOption != null) {
            return fromFile(tokenFileOption, "--token-file");
        }
        String direct = env.get(ENV_TOKEN);
        if (direct != null && !direct.isBlank()) {
            String token = direct.strip();
            if (!isHeaderSafe(token)) {
                throw new CliException(CliException.USAGE, ENV_TOKEN + " holds characters an admin token cannot have"
                        + " (spaces, control or non-ASCII characters); set it to the one line of <hub home>/"
                        + TOKEN_FILE_IN_HOME);
            }
            return new AdminToken(token, "the " + ENV_TOKEN + " environment variable");
        }
        String file = env.get(ENV_TOKEN_FILE);
        if (file != null && !file.isBlank()) {
            return fromFile(Paths.get(file.strip()), ENV_TOKEN_FILE);
        }
        String home = env.get(ENV_HOME);
        String homeFrom = ENV_HOME;
        if (home == null || home.isBlank()) {
            home = sysProps.apply(PROP_HOME);
            homeFrom = "-D" + PROP_HOME;
        }
        if (home != null && !home.isBlank()) {
            return fromFile(Paths.get(home.strip()).resolve(TOKEN_FILE_IN_HOME), homeFrom);
        }
        throw new CliException(CliException.USAGE, "no admin token: pass --token-file FILE, or set " + ENV_TOKEN
                + ", " + ENV_TOKEN_FILE + " or " + ENV_HOME + " (the hub writes its token to <hub home>/"
                + TOKEN_FILE_IN_HOME + ")");
    }

    private static AdminToken fromFile(Path file, String via) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new CliException(CliException.USAGE, "cannot read the admin token: " + file + " does not exist (from "
                    + via + "); " + ("--token-file".equals(via) ? "check the path"
                            : "start the hub once (it writes the token there) or pass --token-file FILE"), e);
        } catch (AccessDeniedException e) {
            throw new CliException(CliException.USAGE, "cannot read the admin token: permission denied on " + file
                    + " (from " + via + "); run meshctl as the user that runs the hub, or pass --token-file FILE", e);
        } catch (IOException e) {
            throw new CliException(CliException.USAGE, "cannot read the admin token from " + file + " (from " + via
                    + "): " + e.getMessage() + "; pass --token-file FILE", e);
        }
        String line = text.strip();
        int eol = line.indexOf('\n');
        if (eol >= 0) {
            line = line.substring(0, eol).strip();
        }
        if (line.isEmpty()) {
            throw new CliException(CliException.USAGE, "the admin token file " + file + " is empty; restart the hub to"
                    + " write a new one, or pass --token-file FILE");
        }
        if (!isHeaderSafe(line)) {
            throw new CliException(CliException.USAGE, file + " does not hold an admin token (expected one line"
                    + " of printable ASCII); check the file, or pass --token-file FILE");
        }
        return new AdminToken(line, file.toString());
    }

    /** The token travels as an ASCII header value. */
    private static boolean isHeaderSafe(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                return false;
            }
        }
        return !s.isEmpty();
    }
}
