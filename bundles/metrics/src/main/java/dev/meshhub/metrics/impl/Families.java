package dev.meshhub.metrics.impl;

import java.util.ArrayList;
import java.util.List;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

/** Builds metric families (snapshots) one data point at a time: the few lines each meshhub series needs. */
final class Families {

    private final List<MetricSnapshot> snapshots = new ArrayList<>();

    /** A gauge family; add its points with {@link Gauge#point}. */
    Gauge gauge(String name, String help) {
        return new Gauge(name, help);
    }

    /** A counter family ({@code name} without {@code _total}; the text format appends it). */
    Counter counter(String name, String help) {
        return new Counter(name, help);
    }

    /** A gauge with one unlabelled value. */
    void gauge(String name, String help, double value) {
        gauge(name, help).point(value).done();
    }

    /** A counter with one unlabelled value. */
    void counter(String name, String help, double value) {
        counter(name, help).point(value).done();
    }

    /** A classic histogram of one unlabelled distribution (the last bucket is +Inf). */
    void histogram(String name, String help, dev.meshhub.api.stats.Distribution distribution) {
        List<Double> bounds = new ArrayList<>(distribution.upperBounds());
        bounds.add(Double.POSITIVE_INFINITY);
        snapshots.add(io.prometheus.metrics.model.snapshots.HistogramSnapshot.builder().name(name).help(help)
                .dataPoint(io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot.builder()
                        .classicHistogramBuckets(io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets.of(bounds,
                                distribution.counts()))
                        .sum(distribution.sum()).build())
                .build());
    }

    List<MetricSnapshot> snapshots() {
        return snapshots;
    }

    private static Labels labels(String... namesAndValues) {
        return namesAndValues.length == 0 ? Labels.EMPTY : Labels.of(namesAndValues);
    }

    /** A gauge family being built. */
    final class Gauge {
        private final GaugeSnapshot.Builder builder;

        private Gauge(String name, String help) {
            builder = GaugeSnapshot.builder().name(name).help(help);
        }

        Gauge point(double value, String... labelNamesAndValues) {
            builder.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).labels(labels(labelNamesAndValues)).build());
            return this;
        }

        void done() {
            snapshots.add(builder.build());
        }
    }

    /** A counter family being built. */
    final class Counter {
        private final CounterSnapshot.Builder builder;

        private Counter(String name, String help) {
            builder = CounterSnapshot.builder().name(name).help(help);
        }

        Counter point(double value, String... labelNamesAndValues) {
            builder.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(value).labels(labels(labelNamesAndValues)).build());
            return this;
        }

        void done() {
            snapshots.add(builder.build());
        }
    }
}
