package dev.meshhub.health.impl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import dev.meshhub.api.health.HealthReport;
import dev.meshhub.api.health.HubHealth;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /system/health} in meshhub's servlet context: 200 when every health check is OK or WARN,
 * 503 otherwise (or while no health check executor runs), with the report as JSON, or as text lines
 * ({@code STATUS name: message}) with {@code ?format=text}.
 */
@Component(service = Servlet.class, property = {"osgi.http.whiteboard.servlet.pattern=/system/health",
    "osgi.http.whiteboard.servlet.name=meshhub-health",
    "osgi.http.whiteboard.context.select=(osgi.http.whiteboard.context.name=dev.meshhub)"})
public final class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Gson JSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private transient volatile HubHealth health;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        HubHealth current = health;
        response.setHeader("Cache-Control", "no-store");
        boolean text = "text".equals(request.getParameter("format"));
        if (current == null) {
            response.setStatus(503);
            response.setContentType("text/plain;charset=utf-8");
            response.getOutputStream().write("CRITICAL health: no health check executor is running (feature meshhub-health)\n"
                    .getBytes(StandardCharsets.UTF_8));
            return;
        }
        HealthReport report = current.check();
        response.setStatus(report.healthy() ? 200 : 503);
        response.setContentType(text ? "text/plain;charset=utf-8" : "application/json;charset=utf-8");
        String body = text ? report.text() : JSON.toJson(new Json(report)) + "\n";
        response.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
    }

    /** The JSON shape: stable field names, the time as an ISO string. */
    private record Json(String status, boolean healthy, String takenAt, java.util.List<HealthReport.Check> checks) {
        Json(HealthReport report) {
            this(report.status(), report.healthy(), report.takenAt().toString(), report.checks());
        }
    }
}
