package dev.meshhub.console.impl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventAdmin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import dev.meshhub.api.audit.AuditLog;
import dev.meshhub.api.enrollment.EnrollmentStore;
import dev.meshhub.api.lock.LockRegistry;
import dev.meshhub.api.management.ManagementScheduler;
import dev.meshhub.api.node.NodeDirectory;
import dev.meshhub.api.pki.HubPki;
import dev.meshhub.api.policy.PolicyAdministration;
import dev.meshhub.api.policy.SandboxPolicy;
import dev.meshhub.api.task.TaskDispatcher;
import dev.meshhub.api.task.TaskJournal;
import dev.meshhub.http.HttpSurface;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /console}: the page, its script and style (from this bundle), and its JSON API under
 * {@code /console/api/} ({@link ConsoleApi}). Registered in meshhub's servlet context, which signs
 * browsers in and checks the CSRF token of every POST; the page gets that token in a meta tag.
 */
@Component(service = Servlet.class, property = {"osgi.http.whiteboard.servlet.pattern=/console/*",
    "osgi.http.whiteboard.servlet.name=meshhub-console",
    "osgi.http.whiteboard.context.select=(osgi.http.whiteboard.context.name=dev.meshhub)"})
public final class ConsoleServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleServlet.class);
    private static final Gson JSON = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();
    private static final Map<String, String> FILES = Map.of("console.js", "text/javascript;charset=utf-8",
            "console.css", "text/css;charset=utf-8");

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile EnrollmentStore enrollment;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile NodeDirectory nodes;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile SandboxPolicy policy;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile TaskJournal journal;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile TaskDispatcher dispatcher;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile LockRegistry locks;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile ManagementScheduler scheduler;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile AuditLog audit;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile EventAdmin eventAdmin;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile PolicyAdministration policyAdministration;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile HubPki pki;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile dev.meshhub.api.sync.FileTransfers transfers;

    private transient ConsoleApi api;
    private transient String page;

    @Activate
    void activate() throws IOException {
        api = new ConsoleApi(new ConsoleApi.Services(() -> enrollment, () -> nodes, () -> policy, () -> journal, () -> dispatcher,
                () -> locks, () -> scheduler, () -> audit, (topic, properties) -> {
                    EventAdmin events = eventAdmin;
                    if (events != null) {
                        events.postEvent(new Event(topic, properties));
                    }
                }, () -> policyAdministration, () -> pki, () -> transfers));
        page = resource("index.html");
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "/" : request.getPathInfo();
        if (path.startsWith("/api/")) {
            api(request, response, path.substring("/api/".length()), false);
            return;
        }
        String file = path.substring(1);
        if (FILES.containsKey(file)) {
            response.setContentType(FILES.get(file));
            response.setHeader("X-Content-Type-Options", "nosniff");
            response.setHeader("Cache-Control", "no-cache");
            response.getOutputStream().write(resource(file).getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (!path.equals("/") && !path.isEmpty()) {
            response.sendError(404);
            return;
        }
        Object csrf = request.getAttribute(HttpSurface.CSRF_ATTRIBUTE);
        HttpSurface.pageHeaders(response);
        response.setContentType("text/html;charset=utf-8");
        response.getOutputStream().write(page.replace("{{csrf}}", csrf == null ? "" : csrf.toString())
                .getBytes(StandardCharsets.UTF_8));
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo() == null ? "/" : request.getPathInfo();
        if (!path.startsWith("/api/")) {
            response.sendError(405);
            return;
        }
        api(request, response, path.substring("/api/".length()), true);
    }

    private void api(HttpServletRequest request, HttpServletResponse response, String path, boolean post) throws IOException {
        ConsoleApi.Answer answer;
        try {
            Map<String, String> query = new HashMap<>();
            request.getParameterMap().forEach((key, values) -> query.put(key, values.length == 0 ? "" : values[0]));
            answer = post ? api.post(path, "console", query) : api.get(path, query);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer = ConsoleApi.Answer.problem(503, "interrupted; retry");
        } catch (IllegalStateException e) {
            answer = ConsoleApi.Answer.problem(503, e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("console API {} failed", path, e);
            answer = ConsoleApi.Answer.problem(500, "the console failed to answer; see the hub log");
        }
        response.setStatus(answer.status());
        response.setContentType("application/json;charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.getOutputStream().write(JSON.toJson(answer.body()).getBytes(StandardCharsets.UTF_8));
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = ConsoleServlet.class.getResourceAsStream("/console-web/" + name)) {
            if (in == null) {
                throw new IOException("console resource " + name + " missing from the bundle");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
