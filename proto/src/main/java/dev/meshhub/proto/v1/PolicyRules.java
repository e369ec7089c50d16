package dev.meshhub.proto.v1;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules a command must pass under a node's sandbox policy. The hub applies them before it
 * journals a task (refusing early), and the node applies the same rules again before it runs
 * anything, so a hub and its nodes never disagree about what a policy allows.
 *
 * <p>Both modes: a program must be given, the working directory must stay inside the workspace
 * ({@value #WORKDIR}), environment variable names must be plain names ({@value #ENV_NAME}), and
 * their values hold no NUL and at most {@value #MAX_ENV_VALUE} characters ({@value #ENV_VALUE}).
 *
 * <p>STRICT (also for an unset or unknown mode: fail closed) adds:
 * <ul>
 * <li>{@value #NO_SHELL}: no shell command, only an argv run directly;</li>
 * <li>{@value #ALLOWLIST}: argv[0]'s name must be on the allowlist;</li>
 * <li>{@value #PATH_RULE}: an argv[0] with a '/' must be an absolute path that is itself on the allowlist;</li>
 * <li>{@value #METACHARACTER}: no argument may hold shell metacharacters, globs, newlines or NUL
 * ({@code ; & | ` $ < > ( ) { } * ? [ ] ~ !}), even though no shell runs: a value that needs them
 * is a sign of an injection attempt;</li>
 * <li>{@value #OPTION_INJECTION}: argv[0] may not look like an option, and no argument may be an option
 * known to make a program run another command ({@code -exec}, {@code --upload-pack=}, {@code
 * --rsh=}, {@code -oProxyCommand=}, ...). This list is a heuristic, not a proof; the allowlist is the
 * real boundary;</li>
 * <li>{@value #ENVIRONMENT}: no variable that changes which program runs or what it loads
 * ({@code PATH}, {@code LD_*}, {@code BASH_ENV}, {@code GCONV_PATH}, {@code GLIBC_TUNABLES},
 * {@code GIT_CONFIG_*}, {@code JDK_JAVA_OPTIONS}, ...), even if the policy names it;</li>
 * <li>{@value #ENV_ALLOWLIST}: every other variable must be on the environment allowlist: the
 * built-in names ({@link #BUILT_IN_ENVIRONMENT}) and the policy's {@code allowed_environment}
 * (an entry ending in {@code *} is a prefix).</li>
 * </ul>
 */
public final class PolicyRules {

    public static final String EMPTY = "command.empty";
    public static final String WORKDIR = "workdir.confined";
    public static final String ENV_NAME = "environment.name";
    public static final String NO_SHELL = "strict.no-shell";
    public static final String ALLOWLIST = "strict.allowlist";
    public static final String PATH_RULE = "strict.path";
    public static final String METACHARACTER = "strict.metacharacter";
    public static final String OPTION_INJECTION = "strict.option-injection";
    public static final String ENVIRONMENT = "strict.environment";
    public static final String ENV_ALLOWLIST = "strict.environment-allowlist";
    public static final String ENV_VALUE = "environment.value";

    /** Longest environment value accepted, in characters. */
    public static final int MAX_ENV_VALUE = 32 * 1024;
    /** Variables a STRICT task may always set (entries ending in '*' are prefixes): locale and terminal only. */
    public static final List<String> BUILT_IN_ENVIRONMENT = List.of("LANG", "LANGUAGE", "LC_*", "TZ", "TERM", "COLUMNS", "LINES",
            "NO_COLOR");

    private static final String METACHARACTERS = ";&|`$<>(){}*?[]~!\n\r\0";
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    /** Options that make common tools run another command (find, git, rsync, tar, ssh, xargs, ...). */
    private static final List<String> COMMAND_OPTIONS = List.of(
            "-exec", "-execdir", "-ok", "-okdir", "--exec", "--upload-pack", "--receive-pack", "--rsh",
            "--checkpoint-action", "--to-command", "--use-compress-program", "--index-filter", "--filter",
            "--command", "--config", "-c", "-e", "--eval", "--run", "-oproxycommand", "-olocalcommand",
            "--pager", "--editor", "--command-fd");
    /** Variables (glibc, the loader, shells, git, JVM, Python, Perl, Ruby, Node) that change what runs or what it loads. */
    private static final Set<String> LOADER_VARIABLES = Set.of(
            "PATH", "IFS", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "CDPATH", "GLOBIGNORE",
            "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "JAVA_OPTIONS", "CLASSPATH", "JAVA_HOME",
            "PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME", "PYTHONINSPECT", "PYTHONUSERBASE", "PYTHONBREAKPOINT",
            "PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB", "PERL_MB_OPT", "PERL_MM_OPT", "RUBYOPT", "RUBYLIB",
            "NODE_OPTIONS", "NODE_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EXEC_PATH", "GIT_ASKPASS", "GIT_PAGER",
            "GIT_EDITOR", "GIT_EXTERNAL_DIFF", "GIT_DIR", "GIT_WORK_TREE", "GIT_TEMPLATE_DIR", "EDITOR", "VISUAL", "PAGER",
            "GCONV_PATH", "GLIBC_TUNABLES", "MALLOC_CHECK_", "MALLOC_PERTURB_", "HOSTALIASES", "LOCALDOMAIN", "RES_OPTIONS",
            "NLSPATH", "TMPDIR", "HOME", "SHELL", "SSLKEYLOGFILE", "OPENSSL_CONF", "OPENSSL_ENGINES", "SSL_CERT_FILE",
            "SSL_CERT_DIR", "CURL_HOME", "WGETRC", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "XDG_DATA_DIRS", "TERMINFO",
            "TERMINFO_DIRS", "LESSOPEN", "LESSCLOSE", "LESSKEY", "MANPAGER", "BROWSER");
    /** Prefixes of such variables. */
    private static final List<String> LOADER_PREFIXES = List.of("LD_", "DYLD_", "GIT_CONFIG", "MALLOC_", "PYTHON", "PERL5",
            "BASH_FUNC_");

    private PolicyRules() {
    }

    /** Why a command was refused: the rule's name and a sentence for the person who asked. */
    public record Refusal(String rule, String message) {
    }

    /** Whether the policy is STRICT (an unset or unknown mode counts as STRICT). */
    public static boolean isStrict(SandboxPolicy policy) {
        return policy == null || policy.getMode() != SandboxPolicy.Mode.PERMISSIVE;
    }

    /**
     * Checks a command against a node's policy.
     *
     * @param nodeLabel how to name the node in the message (its id, or "name (id)")
     * @return the refusal, or empty when the command may run
     */
    public static Optional<Refusal> check(String nodeLabel, SandboxPolicy policy, CommandTask command) {
        boolean strict = isStrict(policy);
        String mode = strict ? "STRICT" : "PERMISSIVE";
        String prefix = "node " + nodeLabel + " runs under " + mode + " policy; ";

        boolean shell = command.getProgramCase() == CommandTask.ProgramCase.SHELL_COMMAND;
        List<String> argv = command.getArgv().getArgsList();
        if (shell ? command.getShellCommand().isBlank() : argv.isEmpty() || argv.get(0).isEmpty()) {
            return refuse(EMPTY, prefix + "the command names no program");
        }
        Optional<Refusal> workdir = checkWorkingDirectory(prefix, command.getWorkingDirectory());
        if (workdir.isPresent()) {
            return workdir;
        }
        java.util.Map<String, String> variables = new java.util.LinkedHashMap<>(command.getEnvironmentMap());
        variables.putAll(command.getSecretEnvironmentMap());
        for (java.util.Map.Entry<String, String> variable : variables.entrySet()) {
            String name = variable.getKey();
            if (!NAME.matcher(name).matches()) {
                return refuse(ENV_NAME, prefix + "environment variable name '" + shorten(name) + "' is not a plain name");
            }
            String value = variable.getValue();
            if (value.indexOf('\0') >= 0) {
                return refuse(ENV_VALUE, prefix + "the value of environment variable " + name + " holds a NUL character");
            }
            if (value.length() > MAX_ENV_VALUE) {
                return refuse(ENV_VALUE, prefix + "the value of environment variable " + name + " has " + value.length()
                        + " characters; at most " + MAX_ENV_VALUE + " are accepted");
            }
        }
        if (!strict) {
            return Optional.empty();
        }
        if (shell) {
            return refuse(NO_SHELL, prefix + "shell commands are not allowed; run the program directly with its arguments");
        }
        String executable = argv.get(0);
        if (executable.startsWith("-")) {
            return refuse(OPTION_INJECTION, prefix + "the program name '" + shorten(executable) + "' looks like an option");
        }
        for (int i = 0; i < argv.size(); i++) {
            String arg = argv.get(i);
            for (char c : arg.toCharArray()) {
                if (METACHARACTERS.indexOf(c) >= 0) {
                    return refuse(METACHARACTER, prefix + "argument " + i + " ('" + shorten(arg) + "') holds the shell metacharacter "
                            + describe(c) + "; STRICT runs no shell, pass plain values");
                }
            }
        }
        List<String> allowed = policy == null ? List.of() : policy.getAllowedExecutablesList();
        if (executable.indexOf('/') >= 0) {
            if (!executable.startsWith("/") || !allowed.contains(executable)) {
                return refuse(PATH_RULE, prefix + "'" + shorten(executable) + "' is a path that is not on its allowlist"
                        + " (allowed: " + allowedList(allowed) + ")");
            }
        } else if (!allowed.contains(executable)) {
            return refuse(ALLOWLIST, prefix + "'" + shorten(executable) + "' is not on its allowlist (allowed: " + allowedList(allowed) + ")");
        }
        for (int i = 1; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg.startsWith("-")) {
                String option = arg.toLowerCase(Locale.ROOT);
                int equals = option.indexOf('=');
                String name = equals >= 0 ? option.substring(0, equals) : option;
                if (COMMAND_OPTIONS.contains(name)) {
                    return refuse(OPTION_INJECTION, prefix + "argument " + i + " ('" + shorten(arg)
                            + "') is an option that can make '" + executable + "' run another command");
                }
            }
        }
        List<String> environment = policy == null ? List.of() : policy.getAllowedEnvironmentList();
        for (String name : variables.keySet()) {
            if (isLoaderVariable(name)) {
                return refuse(ENVIRONMENT, prefix + "environment variable " + name + " could change which program runs or what it loads");
            }
            if (!matches(BUILT_IN_ENVIRONMENT, name) && !matches(environment, name)) {
                return refuse(ENV_ALLOWLIST, prefix + "environment variable " + name + " is not on its environment allowlist"
                        + " (allowed: " + allowedList(java.util.stream.Stream.concat(BUILT_IN_ENVIRONMENT.stream(), environment.stream())
                                .toList()) + ")");
            }
        }
        return Optional.empty();
    }

    /** Whether a variable changes which program runs or what it loads (refused in STRICT whatever the policy says). */
    public static boolean isLoaderVariable(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        return LOADER_VARIABLES.contains(upper) || LOADER_PREFIXES.stream().anyMatch(upper::startsWith);
    }

    private static boolean matches(List<String> entries, String name) {
        for (String entry : entries) {
            if (entry.endsWith("*") ? name.startsWith(entry.substring(0, entry.length() - 1)) : entry.equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static Optional<Refusal> checkWorkingDirectory(String prefix, String directory) {
        if (directory.isEmpty()) {
            return Optional.empty();
        }
        boolean escapes = directory.startsWith("/") || directory.indexOf('\0') >= 0 || directory.indexOf('\\') >= 0
                || directory.length() > 4096;
        for (String segment : directory.split("/")) {
            if (segment.equals("..")) {
                escapes = true;
            }
        }
        if (escapes) {
            return refuse(WORKDIR, prefix + "working directory '" + shorten(directory)
                    + "' is not a relative path inside the node's workspace");
        }
        return Optional.empty();
    }

    private static Optional<Refusal> refuse(String rule, String message) {
        return Optional.of(new Refusal(rule, message + " (rule " + rule + ")"));
    }

    private static String allowedList(List<String> allowed) {
        return allowed.isEmpty() ? "nothing" : String.join(", ", allowed.size() > 20 ? allowed.subList(0, 20) : allowed)
                + (allowed.size() > 20 ? ", ..." : "");
    }

    private static String describe(char c) {
        return switch (c) {
            case '\n' -> "newline";
            case '\r' -> "carriage return";
            case '\0' -> "NUL";
            default -> "'" + c + "'";
        };
    }

    private static String shorten(String text) {
        String printable = text.replace("\0", "\\0").replace("\n", "\\n").replace("\r", "\\r");
        return printable.length() > 60 ? printable.substring(0, 60) + "..." : printable;
    }
}
