package dev.meshhub.bench;

import static org.junit.Assert.assertEquals;

import java.util.List;

import org.junit.Test;

/** The figures' arithmetic and wording; no benchmark runs here. */
public class ReportTest {

    @Test
    public void medianOfAnOddCountIsTheMiddleRound() {
        Spread spread = Spread.of(List.of(5.0, 1.0, 3.0, 9.0, 4.0));
        assertEquals(4.0, spread.median(), 0);
        assertEquals(1.0, spread.min(), 0);
        assertEquals(9.0, spread.max(), 0);
        assertEquals(5, spread.rounds());
        assertEquals(100.0, spread.halfRangePercent(), 1e-9);
    }

    @Test
    public void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, Spread.of(List.of(4, 1, 2, 3)).median(), 0);
    }

    @Test
    public void zeroMedianHasNoRelativeSpread() {
        assertEquals(0.0, Spread.of(List.of(0, 0, 125)).halfRangePercent(), 0);
    }

    @Test(expected = IllegalArgumentException.class)
    public void noRoundsIsAnError() {
        Spread.of(List.of());
    }

    @Test
    public void latenciesKeepThreeSignificantDigits() {
        assertEquals("0.089 ms", Report.millis(89_000));
        assertEquals("1.234 ms", Report.millis(1_234_000));
        assertEquals("12.35 ms", Report.millis(12_345_000));
        assertEquals("123.5 ms", Report.millis(123_450_001));
    }

    @Test
    public void ratiosAndRates() {
        assertEquals("1.33x", Report.ratio(1.3333));
        assertEquals("12.5x", Report.ratio(12.46));
        assertEquals("16,000 tasks/s", Report.rate(16_000));
        assertEquals("median 2.000 ms (3 rounds, spread 1.000 ms to 3.000 ms, +-50%)",
                Report.spread(Spread.of(List.of(1e6, 2e6, 3e6)), Report::millis));
    }

    @Test
    public void oneLinePerBenchmark() {
        Report.Row row = new Report.Row(1, "dispatch round trip", "p50 1.000 ms", "p50 0.500 ms", "2.00x", "p50 <= 1.3x",
                Report.MISS, List.of());
        assertEquals("1 dispatch round trip | p50 1.000 ms | baseline p50 0.500 ms | ratio 2.00x | goal p50 <= 1.3x | MISS", row.line());
        assertEquals("2 durable dispatch throughput | - | baseline - | ratio - | goal g | MISS (not measurable: no hub)",
                Report.Row.notMeasurable(2, "durable dispatch throughput", "g", "no hub", List.of()).line());
    }
}
