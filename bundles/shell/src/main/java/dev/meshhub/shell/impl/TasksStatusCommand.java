package dev.meshhub.shell.impl;

import java.util.List;

import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Function;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code mesh:tasks-status}. Gogo finds a command's method by its name, and no Java method is called
 * "tasks-status"; a {@link Function} service is called whatever its name, so this one hands over to
 * {@link ManagementCommands}, which holds the scheduler reference.
 */
@Component(service = Function.class, property = {
        "osgi.command.scope=mesh",
        "osgi.command.function=tasks-status"})
public class TasksStatusCommand implements Function {

    @Reference
    private ManagementCommands commands;

    public TasksStatusCommand() {
    }

    TasksStatusCommand(ManagementCommands commands) {
        this.commands = commands;
    }

    @Override
    public Object execute(CommandSession session, List<Object> arguments) {
        if (!arguments.isEmpty()) {
            throw new IllegalArgumentException("mesh:tasks-status takes no arguments: it lists the management tasks"
                    + " the scheduler tracks, with their last runs and errors");
        }
        commands.printTasks(System.out);
        return null;
    }
}
