package dev.meshhub.runtime.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import dev.meshhub.proto.v1.ListNodesRequest;

/**
 * The web console as an admin uses it, in Debian's chromium (headless) driven by its chromedriver
 * (packages chromium and chromium-driver, which .ci/run installs; nothing is downloaded): sign in with
 * the admin token, create an invite that a real meshnode joins with, set that node PERMISSIVE (typing
 * its name to confirm), watch a task's output appear, revoke the node and see it leave. Screenshots go to target/screenshots/. Then the same session's requests forged the
 * ways a hostile page would (no CSRF token, another origin, no cookie), refused.
 */
public class ConsoleBrowserIT {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Path SCREENSHOTS = Path.of("target/screenshots").toAbsolutePath();

    @Rule
    public final RuntimeUnderTest runtime = new RuntimeUnderTest();

    private WebDriver browser;

    @Before
    public void startBrowser() throws Exception {
        assertTrue("the test needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver;"
                + " .ci/run installs them)", Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900",
                "--user-data-dir=" + Files.createTempDirectory(runtime.home, "chromium-profile"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().withLogFile(runtime.home.resolve("chromedriver.log").toFile()).build();
        browser = new ChromeDriver(service, options);
        Files.createDirectories(SCREENSHOTS);
    }

    @After
    public void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private String base() {
        return "http://127.0.0.1:" + runtime.httpPort;
    }

    private void screenshot(String name) throws Exception {
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve("console-" + name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    private WebDriverWait waiting() {
        return new WebDriverWait(browser, WAIT);
    }

    @Test
    public void anAdminInvitesANodeSetsItsPolicyWatchesATaskAndRevokesIt() throws Exception {
        browser.get(base() + "/console");
        waiting().until(ExpectedConditions.urlContains("/login"));
        screenshot("1-sign-in");
        browser.findElement(By.id("token")).sendKeys(Files.readString(runtime.home.resolve("etc/admin.token")).strip());
        browser.findElement(By.id("sign-in")).click();
        waiting().until(ExpectedConditions.urlToBe(base() + "/console"));

        // An invite from the console, shown once, and a real meshnode joining with it and the pin shown beside it.
        browser.findElement(By.id("create-invite")).click();
        Alert note = waiting().until(ExpectedConditions.alertIsPresent());
        note.sendKeys("for beta");
        note.accept();
        waiting().until(ExpectedConditions.visibilityOfElementLocated(By.id("invite-token")));
        String token = browser.findElement(By.id("invite-token")).getText();
        String pin = browser.findElement(By.id("invite-pin")).getText();
        assertTrue(token, token.length() > 20);
        assertTrue(pin, pin.startsWith("sha256:"));
        screenshot("2-invite");
        browser.findElement(By.id("invite-close")).click();
        assertEquals("the token is gone from the page once closed", "", browser.findElement(By.id("invite-token")).getAttribute("textContent"));
        runtime.meshnode(runtime.home.resolve("beta-workspace"), "--token", token, "--ca-pin", pin, "--name", "beta");

        By betaRow = By.cssSelector("#nodes-table tr[data-node-name='beta']");
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(betaRow, "connected"));
        String row = browser.findElement(betaRow).getText();
        assertTrue(row, row.contains("STRICT") && row.contains("127.0.0.1:"));

        // PERMISSIVE only with the node's name typed, as meshctl's --yes.
        new Select(browser.findElement(By.cssSelector("#nodes-table tr[data-node-name='beta'] select.mode"))).selectByVisibleText("PERMISSIVE");
        browser.findElement(By.cssSelector("#nodes-table tr[data-node-name='beta'] button.set-mode")).click();
        Alert confirm = waiting().until(ExpectedConditions.alertIsPresent());
        confirm.sendKeys("beta");
        confirm.accept();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(betaRow, "PERMISSIVE"));
        String policy = runtime.meshctl("policy", "get", "beta").assertExit(0).stdout();
        assertTrue("the hub has beta PERMISSIVE: " + policy, policy.contains("permissive"));
        screenshot("3-nodes");

        Process exec = runtime.meshctlInBackground("console-task", "exec", "beta", "--shell",
                "for i in 1 2 3 4 5 6 7 8; do echo line-$i; sleep 1; done");
        browser.findElement(By.cssSelector("nav button[data-view='tasks']")).click();
        By taskRow = By.cssSelector("#tasks-table tbody tr");
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(taskRow, "line-$i"));
        browser.findElement(taskRow).click();
        By output = By.id("task-output");
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(output, "line-2"));
        String meta = browser.findElement(By.id("task-meta")).getText();
        assertTrue("the output appears while the task runs: " + meta, meta.startsWith("RUNNING"));
        assertFalse("not all of it yet", browser.findElement(output).getText().contains("line-8"));
        screenshot("4-task-running");
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(By.id("task-meta"), "SUCCEEDED"));
        assertTrue(browser.findElement(output).getText().contains("line-8"));
        screenshot("5-task-done");
        assertEquals(0, exec.waitFor());

        browser.findElement(By.cssSelector("nav button[data-view='nodes']")).click();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(betaRow, "connected"));
        browser.findElement(By.cssSelector("#nodes-table tr[data-node-name='beta'] button.revoke")).click();
        waiting().until(ExpectedConditions.alertIsPresent()).accept();
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(betaRow, "revoked"));
        screenshot("6-revoked");
        browser.findElement(By.cssSelector("nav button[data-view='audit']")).click();
        By audit = By.id("audit-table");
        waiting().until(ExpectedConditions.textToBePresentInElementLocated(audit, "node.revoke"));
        String trail = browser.findElement(audit).getText();
        assertTrue("the console's acts are in the audit trail: " + trail, trail.contains("console node.revoke")
                && trail.contains("console invite.create") && trail.contains("PERMISSIVE"));
        screenshot("7-audit");
        Poll.until("beta gone from the hub's live nodes", WAIT, () -> {
            try {
                return runtime.admin().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .noneMatch(n -> n.getName().equals("beta"));
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    public void forgedRequestsWithTheSessionAreRefused() throws Exception {
        browser.get(base() + "/login");
        browser.findElement(By.id("token")).sendKeys(Files.readString(runtime.home.resolve("etc/admin.token")).strip());
        browser.findElement(By.id("sign-in")).click();
        waiting().until(ExpectedConditions.urlToBe(base() + "/console"));
        String cookie = "meshhub_session=" + browser.manage().getCookieNamed("meshhub_session").getValue();
        WebElement meta = browser.findElement(By.cssSelector("meta[name='csrf']"));
        String csrf = meta.getAttribute("content");
        assertEquals(43, csrf.length());
        assertTrue("the session cookie is out of scripts' reach", browser.manage().getCookieNamed("meshhub_session").isHttpOnly());

        HttpClient http = HttpClient.newHttpClient();
        String action = base() + "/console/api/tasks/t-none/cancel";
        record Attempt(String what, int expected, List<String> headers) {
        }
        for (Attempt attempt : List.of(
                new Attempt("no cookie", 401, List.of("X-CSRF-Token", csrf)),
                new Attempt("no CSRF token", 403, List.of("Cookie", cookie)),
                new Attempt("a wrong CSRF token", 403, List.of("Cookie", cookie, "X-CSRF-Token", csrf.substring(1) + "x")),
                new Attempt("another origin", 403, List.of("Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "https://evil.example")),
                new Attempt("this origin, the token", 409, List.of("Cookie", cookie, "X-CSRF-Token", csrf, "Origin", base())))) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(action))
                    .headers(attempt.headers().toArray(new String[0])).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(attempt.what() + ": " + response.body(), attempt.expected(), response.statusCode());
        }
        HttpResponse<String> forgedLogin = http.send(HttpRequest.newBuilder(URI.create(base() + "/login"))
                .header("Origin", "https://evil.example").header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("token=" + Files.readString(runtime.home.resolve("etc/admin.token")).strip()))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("a sign-in posted from another site", 403, forgedLogin.statusCode());
        assertTrue(forgedLogin.headers().allValues("Set-Cookie").isEmpty());
    }
}
