package dev.meshhub.policy.impl;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Configuration of the default sandbox policy (PID {@value #PID}). */
@ObjectClassDefinition(id = DefaultPolicyConfiguration.PID, name = "meshhub sandbox policy",
        description = "Every node runs STRICT: only the listed executables, run directly, no shell."
                + " PERMISSIVE is granted per node only (dev.meshhub.policy.node configurations, or an"
                + " audited admin act), never as a default.")
public @interface DefaultPolicyConfiguration {

    /** The configuration PID. */
    String PID = "dev.meshhub.policy";
    /** The only accepted value of {@link #defaultMode()}. */
    String DEFAULT_MODE = "STRICT";

    /**
     * Programs that inspect the machine and print; none of them runs another program or changes
     * system state. Shells, {@code env}, {@code xargs}, {@code sudo}, {@code nice}, {@code timeout},
     * {@code nohup} and the like are left out on purpose: allowing one would allow everything;
     * {@code date} and {@code hostname} too, since run as root they set the clock and the host name.
     */
    @AttributeDefinition(name = "Allowed executables",
            description = "What a STRICT node may run: program names (matched against argv[0]'s file name)"
                    + " or absolute paths (matched exactly). In a .cfg file, separate them with commas.")
    String[] allowedExecutables() default {"echo", "true", "false", "ls", "cat", "head", "tail", "wc", "uname",
            "whoami", "id", "df", "du", "uptime", "sleep", "pwd"};

    @AttributeDefinition(name = "Allowed environment", required = false,
            description = "Environment variable names STRICT tasks may set besides LANG, LANGUAGE, LC_*, TZ, TERM, COLUMNS,"
                    + " LINES and NO_COLOR; an entry ending in * is a prefix (APP_*). Variables that change what runs or"
                    + " loads (PATH, LD_*, GCONV_PATH, GIT_CONFIG_*, JDK_JAVA_OPTIONS, ...) stay refused whatever is listed.")
    String[] allowedEnvironment() default {};

    @AttributeDefinition(name = "Default mode",
            description = "Must be STRICT: the mode of every node not granted PERMISSIVE on its own."
                    + " Anything else is refused, so that no configuration can make every node PERMISSIVE.")
    String defaultMode() default DEFAULT_MODE;
}
