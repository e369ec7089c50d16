package dev.meshhub.proto.v1;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.Test;

public class PolicyRulesTest {

    private static final SandboxPolicy STRICT = SandboxPolicy.newBuilder().setMode(SandboxPolicy.Mode.STRICT)
            .addAllAllowedExecutables(List.of("echo", "ls", "find", "git", "/usr/bin/uname")).build();
    private static final SandboxPolicy PERMISSIVE = SandboxPolicy.newBuilder().setMode(SandboxPolicy.Mode.PERMISSIVE).build();

    private static CommandTask argv(String... args) {
        return CommandTask.newBuilder().setArgv(ArgvCommand.newBuilder().addAllArgs(List.of(args))).build();
    }

    private static CommandTask shell(String line) {
        return CommandTask.newBuilder().setShellCommand(line).build();
    }

    private static String refusedBy(SandboxPolicy policy, CommandTask command) {
        Optional<PolicyRules.Refusal> refusal = PolicyRules.check("n1", policy, command);
        assertTrue("expected a refusal of " + command, refusal.isPresent());
        assertTrue(refusal.get().message(), refusal.get().message().startsWith("node n1 runs under "));
        assertTrue(refusal.get().message(), refusal.get().message().endsWith("(rule " + refusal.get().rule() + ")"));
        return refusal.get().rule();
    }

    @Test
    public void strictRunsAllowlistedProgramsWithPlainArguments() {
        assertEquals(Optional.empty(), PolicyRules.check("n1", STRICT, argv("echo", "hello world", "--x", "a=b", "quote\"s")));
        assertEquals(Optional.empty(), PolicyRules.check("n1", STRICT, argv("/usr/bin/uname", "-a")));
        assertEquals(Optional.empty(), PolicyRules.check("n1", STRICT, argv("ls", "-la", "sub/dir")));
    }

    @Test
    public void strictRefusesEveryShellBypass() {
        assertEquals(PolicyRules.NO_SHELL, refusedBy(STRICT, shell("echo hi")));
        for (String hostile : new String[] {"a;rm -rf /", "a && b", "a | b", "`id`", "$(id)", "a\nb", "*.txt", "?", "[ab]",
                "~root", "a > f", "a < f", "{a,b}", "!1", "a\0b", "a\rb"}) {
            assertEquals(hostile, PolicyRules.METACHARACTER, refusedBy(STRICT, argv("echo", hostile)));
        }
        assertEquals(PolicyRules.ALLOWLIST, refusedBy(STRICT, argv("rm", "-rf", "x")));
        assertEquals(PolicyRules.PATH_RULE, refusedBy(STRICT, argv("./echo")));
        assertEquals(PolicyRules.PATH_RULE, refusedBy(STRICT, argv("/tmp/echo")));
        assertEquals(PolicyRules.OPTION_INJECTION, refusedBy(STRICT, argv("-rf")));
        assertEquals(PolicyRules.OPTION_INJECTION, refusedBy(STRICT, argv("find", ".", "-exec", "rm", "x")));
        assertEquals(PolicyRules.OPTION_INJECTION, refusedBy(STRICT, argv("git", "--upload-pack=touch /tmp/x", "clone")));
        assertEquals(PolicyRules.OPTION_INJECTION, refusedBy(STRICT, argv("git", "-c", "core.pager=sh")));
        assertEquals(PolicyRules.ENVIRONMENT, refusedBy(STRICT, argv("ls").toBuilder().putEnvironment("PATH", "/tmp").build()));
        assertEquals(PolicyRules.ENVIRONMENT, refusedBy(STRICT, argv("ls").toBuilder().putEnvironment("LD_PRELOAD", "/x.so").build()));
    }

    @Test
    public void strictPassesOnlyAllowlistedEnvironmentAndNeverALoaderVariable() {
        for (String name : new String[] {"LANG", "LC_ALL", "LC_TIME", "TZ", "TERM", "NO_COLOR"}) {
            assertEquals(name, Optional.empty(), PolicyRules.check("n1", STRICT, argv("ls").toBuilder().putEnvironment(name, "x").build()));
        }
        // Every variable the glibc, loader, git, JVM, Python and Perl documentation lists as changing what runs or loads.
        for (String name : new String[] {"GCONV_PATH", "GLIBC_TUNABLES", "LD_LIBRARY_PATH", "LD_AUDIT", "MALLOC_CHECK_",
                "HOSTALIASES", "LOCALDOMAIN", "RES_OPTIONS", "NLSPATH", "TMPDIR", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_COUNT",
                "GIT_CONFIG_KEY_0", "GIT_CONFIG_PARAMETERS", "GIT_EXEC_PATH", "GIT_ASKPASS", "GIT_DIR", "JDK_JAVA_OPTIONS",
                "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "CLASSPATH", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONWARNINGS",
                "PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB", "RUBYOPT", "NODE_OPTIONS", "BASH_ENV", "ENV", "BASH_FUNC_ls%%",
                "IFS", "HOME", "SHELL", "OPENSSL_CONF", "SSLKEYLOGFILE", "path", "Ld_Preload"}) {
            SandboxPolicy lenient = STRICT.toBuilder().addAllowedEnvironment("*").build();
            String rule = PolicyRules.check("n1", lenient, argv("ls").toBuilder().putEnvironment(name, "x").build())
                    .map(PolicyRules.Refusal::rule).orElse("allowed");
            assertTrue(name + " was " + rule, rule.equals(PolicyRules.ENVIRONMENT) || rule.equals(PolicyRules.ENV_NAME));
        }
        PolicyRules.Refusal other = PolicyRules.check("n1", STRICT, argv("ls").toBuilder().putEnvironment("APP_MODE", "x").build())
                .orElseThrow();
        assertEquals(PolicyRules.ENV_ALLOWLIST, other.rule());
        assertTrue(other.message(), other.message().contains("APP_MODE is not on its environment allowlist (allowed: LANG, LANGUAGE, LC_*"));
        SandboxPolicy withApp = STRICT.toBuilder().addAllowedEnvironment("APP_*").build();
        assertEquals(Optional.empty(), PolicyRules.check("n1", withApp, argv("ls").toBuilder().putEnvironment("APP_MODE", "x").build()));
    }

    @Test
    public void secretVariablesFollowTheSameRules() {
        assertEquals(PolicyRules.ENVIRONMENT, refusedBy(STRICT, argv("ls").toBuilder().putSecretEnvironment("LD_PRELOAD", "/x.so").build()));
        assertEquals(PolicyRules.ENV_ALLOWLIST, refusedBy(STRICT, argv("ls").toBuilder().putSecretEnvironment("TOKEN", "x").build()));
        assertEquals(PolicyRules.ENV_VALUE, refusedBy(PERMISSIVE, shell("ls").toBuilder().putSecretEnvironment("TOKEN", "a\0b").build()));
        assertEquals(Optional.empty(), PolicyRules.check("n1", STRICT.toBuilder().addAllowedEnvironment("TOKEN").build(),
                argv("ls").toBuilder().putSecretEnvironment("TOKEN", "x").build()));
    }

    @Test
    public void environmentValuesHoldNoNulAndAreBoundedInEveryMode() {
        for (SandboxPolicy policy : new SandboxPolicy[] {STRICT, PERMISSIVE}) {
            CommandTask base = policy == STRICT ? argv("ls") : shell("ls");
            assertEquals(PolicyRules.ENV_VALUE, refusedBy(policy, base.toBuilder().putEnvironment("LANG", "C\0x").build()));
            assertEquals(PolicyRules.ENV_VALUE, refusedBy(policy, base.toBuilder()
                    .putEnvironment("LANG", "x".repeat(PolicyRules.MAX_ENV_VALUE + 1)).build()));
            assertEquals(Optional.empty(), PolicyRules.check("n1", policy, base.toBuilder()
                    .putEnvironment("LANG", "x".repeat(PolicyRules.MAX_ENV_VALUE)).build()));
        }
    }

    @Test
    public void anUnsetOrMissingPolicyIsStrictWithNothingAllowed() {
        assertEquals(PolicyRules.ALLOWLIST, refusedBy(SandboxPolicy.getDefaultInstance(), argv("echo", "hi")));
        assertEquals(PolicyRules.NO_SHELL, refusedBy(null, shell("echo hi")));
        assertTrue(PolicyRules.isStrict(SandboxPolicy.newBuilder().setModeValue(99).build()));
    }

    @Test
    public void permissiveAllowsShellButStillConfinesTheWorkingDirectory() {
        assertEquals(Optional.empty(), PolicyRules.check("n1", PERMISSIVE, shell("echo hi | wc -c")));
        assertEquals(Optional.empty(), PolicyRules.check("n1", PERMISSIVE, argv("rm", "-rf", "build")));
        for (String escape : new String[] {"/etc", "..", "a/../../b", "a\0b"}) {
            assertEquals(escape, PolicyRules.WORKDIR, refusedBy(PERMISSIVE, shell("pwd").toBuilder().setWorkingDirectory(escape).build()));
        }
        assertEquals(Optional.empty(), PolicyRules.check("n1", PERMISSIVE, shell("pwd").toBuilder().setWorkingDirectory("a/b").build()));
        assertEquals(PolicyRules.ENV_NAME, refusedBy(PERMISSIVE, shell("env").toBuilder().putAllEnvironment(Map.of("A=B", "x")).build()));
        assertEquals(PolicyRules.EMPTY, refusedBy(PERMISSIVE, CommandTask.getDefaultInstance()));
    }

    @Test
    public void theMessageNamesTheNodeTheModeAndTheRule() {
        PolicyRules.Refusal refusal = PolicyRules.check("n1", STRICT, argv("rm", "-rf", "x")).orElseThrow();
        assertEquals("node n1 runs under STRICT policy; 'rm' is not on its allowlist (allowed: echo, ls, find, git, /usr/bin/uname)"
                + " (rule strict.allowlist)", refusal.message());
    }
}
