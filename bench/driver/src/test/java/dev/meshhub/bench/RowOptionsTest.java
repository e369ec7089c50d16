package dev.meshhub.bench;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.junit.Test;

/** Options of rows 4, 6, 8, 10, 11, 13, 14, 15 and 18, and the churn's rate windows; no benchmark runs here. */
public class RowOptionsTest {

    private static BenchOptions parse(String... args) throws IOException {
        Path probe = Files.createTempFile("bench-probe", ".jar");
        probe.toFile().deleteOnExit();
        String[] all = new String[args.length + 2];
        all[0] = "--probe";
        all[1] = probe.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return BenchOptions.parse(all);
    }

    @Test
    public void rowsOneAndTwoByDefaultWithTheirBudget() throws IOException {
        BenchOptions options = parse();
        assertEquals(Set.of(1, 2), options.rows());
        assertEquals(285, options.budget().toSeconds());
    }

    @Test
    public void eachRowAddsItsBudget() throws IOException {
        assertEquals(330, parse("--rows", "4").budget().toSeconds());
        assertEquals(240, parse("--rows", "6").budget().toSeconds());
        assertEquals(285 + 330 + 240, parse("--rows", "1,2,4,6").budget().toSeconds());
        assertEquals(100, parse("--rows", "4", "--budget-seconds", "100").budget().toSeconds());
        assertEquals(300, parse("--rows", "13").budget().toSeconds());
    }

    @Test
    public void theSoakRunsTheBenchmarksHundredSwapsUnlessAskedOtherwise() throws IOException {
        assertEquals(100, parse("--rows", "13").soakSwaps());
        assertEquals(16, parse("--rows", "13", "--quick").soakSwaps());
        assertEquals(40, parse("--rows", "13", "--soak-swaps", "40").soakSwaps());
        assertThrows(IllegalArgumentException.class, () -> parse("--rows", "13", "--soak-swaps", "0"));
    }

    @Test
    public void theFleetRowsTakeTheirSizesAndBudgets() throws IOException {
        assertEquals(java.util.List.of(1000, 5000, 10000), parse("--rows", "5").fleetSizes());
        assertEquals(java.util.List.of(100, 500, 1000), parse("--rows", "5", "--quick").fleetSizes());
        assertEquals(java.util.List.of(200, 400), parse("--rows", "5", "--fleet-sizes", "200,400").fleetSizes());
        IllegalArgumentException falling = assertThrows(IllegalArgumentException.class,
                () -> parse("--rows", "5", "--fleet-sizes", "400,200"));
        assertEquals("--fleet-sizes takes rising sizes (e.g. 1000,5000,10000), got '400,200'", falling.getMessage());
        assertEquals(5000, parse("--rows", "9").stormNodes());
        assertEquals(500, parse("--rows", "9", "--quick").stormNodes());
        assertEquals(480 + 900 + 420 + 720, parse("--rows", "3,5,7,9").budget().toSeconds());
        assertEquals(Set.of(3, 5, 7, 9), parse("--rows", "3,5,7,9").rows());
    }

    @Test
    public void theJournalRowFillsAMillionTasksUnlessAskedOtherwise() throws IOException {
        assertEquals(1_000_000, parse("--rows", "14").journalTasks());
        assertEquals(100_000, parse("--rows", "14", "--quick").journalTasks());
        assertEquals(5_000, parse("--rows", "14", "--journal-tasks", "5000").journalTasks());
        assertEquals(1200, parse("--rows", "14").budget().toSeconds());
        assertThrows(IllegalArgumentException.class, () -> parse("--rows", "14", "--journal-tasks", "0"));
    }

    @Test
    public void rowsAreNumberedAsInBenchmarksMd() throws IOException {
        assertEquals(8, ColdStartRow.NUMBER);
        assertEquals(10, CliRow.NUMBER);
        assertEquals(11, TlsRow.NUMBER);
        assertEquals(15, RotationRow.NUMBER);
        assertEquals(Set.of(8, 10), parse("--rows", "8,10").rows());
        assertEquals(240 + 120, parse("--rows", "8,10").budget().toSeconds());
        assertEquals(Set.of(11), parse("--rows", "11").rows());
        assertEquals(420, parse("--rows", "11").budget().toSeconds());
        assertEquals(Set.of(15), parse("--rows", "15", "--quick").rows());
        assertEquals(240, parse("--rows", "15").budget().toSeconds());
    }

    @Test
    public void unknownRowsAreRefused() {
        // 12 (hubs sharing PostgreSQL) waits for a PostgreSQL journal.
        assertThrows(IllegalArgumentException.class, () -> parse("--rows", "12"));
        assertThrows(IllegalArgumentException.class, () -> parse("--rows", "19"));
        assertThrows(IllegalArgumentException.class, () -> parse("--rows", "four"));
    }

    @Test
    public void theTaskOutputRowSendsAGibibyteInThreeRoundsUnlessAskedOtherwise() throws IOException {
        BenchOptions options = parse("--rows", "18");
        assertEquals(Set.of(18), options.rows());
        assertEquals(1100, options.budget().toSeconds());
        assertEquals(3, options.outputRounds());
        assertEquals(1L << 30, options.outputBytes());
        assertEquals(1, parse("--rows", "18", "--quick").outputRounds());
        assertEquals(256L << 20, parse("--rows", "18", "--quick").outputBytes());
        assertEquals(64L << 20, parse("--rows", "18", "--output-mib", "64").outputBytes());
        assertEquals(5, parse("--rows", "18", "--output-rounds", "5").outputRounds());
        assertThrows(IllegalArgumentException.class, () -> parse("--rows", "18", "--output-mib", "0"));
        assertEquals(10_000, options.smallTasks());
        assertEquals(1000, parse("--rows", "18", "--quick").smallTasks());
        assertEquals(500, parse("--rows", "18", "--small-tasks", "500").smallTasks());
        assertThrows(IllegalArgumentException.class, () -> parse("--rows", "18", "--small-tasks", "0"));
        assertEquals(18, TaskOutputRow.NUMBER);
        assertEquals("1 GiB", TaskOutputRow.sizeLabel(1L << 30));
        assertEquals("64 MiB", TaskOutputRow.sizeLabel(64L << 20));
    }

    @Test
    public void theDigestEveryPipelineOfRow18MustPrintIsThatOfAGibibyteOfZeros() {
        assertEquals("49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14", OutputPipelines.zerosSha256(1L << 30));
    }

    @Test
    public void theSmallTasksPartOfRow18FitsItsBudgetAtTwentyFiveTasksASecond() {
        // 10,000 tasks at 25/s and 90 s of setup: 490 s, within the 500 s the row's budget adds for them.
        assertEquals(490, SmallTaskLogs.SETUP.plusSeconds(10_000 / SmallTaskLogs.BUDGET_TASKS_PER_SECOND).toSeconds());
        assertEquals("2000000", SmallTaskLogs.ENVIRONMENT.get("MESHHUB_TASKLOGS_MAX_TOTAL_BYTES"));
    }

    @Test
    public void theBareBaselineKeepsScrAndWhatItNeedsAtTheHubsVersions() {
        String xml = """
                <features><feature name="meshhub-framework">
                    <bundle start-level="5" dependency="true">mvn:org.osgi/org.osgi.util.function/1.2.0</bundle>
                    <bundle start-level="12" dependency="true">mvn:org.apache.felix/org.apache.felix.scr/2.2.12</bundle>
                    <bundle>mvn:dev.meshhub/journal/0.1.0-SNAPSHOT</bundle>
                </feature></features>
                """;
        var bundles = BareRuntime.bundles(xml);
        assertEquals("12", bundles.get("mvn:org.apache.felix/org.apache.felix.scr/2.2.12"));
        assertEquals("80", bundles.get("mvn:dev.meshhub/journal/0.1.0-SNAPSHOT"));
        assertEquals("org/apache/felix/org.apache.felix.scr/2.2.12/org.apache.felix.scr-2.2.12.jar",
                BareRuntime.path("mvn:org.apache.felix/org.apache.felix.scr/2.2.12"));
    }

    @Test
    public void fileSizeIsSplitInEight() throws IOException {
        assertEquals(1024L << 20, parse("--rows", "4").syncFileBytes());
        assertEquals(256L << 20, parse("--rows", "4", "--quick").syncFileBytes());
        assertThrows(IllegalArgumentException.class, () -> parse("--rows", "4", "--sync-file-mib", "100"));
    }

    @Test
    public void churnRatesPerWindowLeaveOutAPartialLastWindow() {
        long[] perSecond = {10, 10, 20, 20, 30, 30, 5};
        assertEquals(List.of(10.0, 20.0, 30.0), UploadChurn.windowRates(perSecond, 2));
    }
}
