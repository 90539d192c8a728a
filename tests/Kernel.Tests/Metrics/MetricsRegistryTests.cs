using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Kernel.Tests.Metrics;

public class MetricsRegistryTests
{
    [Test]
    public async Task Counter_with_labels_renders_in_prometheus_text()
    {
        var registry = new MetricsRegistry();
        var counter = registry.Counter("hoody_test_total", "A test counter.", "reason");
        counter.WithLabels("per_origin").Inc();
        counter.WithLabels("per_origin").Inc(2);
        counter.WithLabels("glo\"bal").Inc();
        var text = registry.Render();
        await Assert.That(text).Contains("# TYPE hoody_test_total counter");
        await Assert.That(text).Contains("hoody_test_total{reason=\"per_origin\"} 3\n");
        await Assert.That(text).Contains("hoody_test_total{reason=\"glo\\\"bal\"} 1\n");
    }

    [Test]
    public async Task Unlabelled_families_render_zero_before_first_use()
    {
        var registry = new MetricsRegistry();
        registry.Counter("hoody_a_total", "a");
        registry.Gauge("hoody_b", "b");
        var text = registry.Render();
        await Assert.That(text).Contains("hoody_a_total 0\n");
        await Assert.That(text).Contains("hoody_b 0\n");
    }

    [Test]
    public async Task Histogram_buckets_are_cumulative()
    {
        var registry = new MetricsRegistry();
        var histogram = registry.Histogram("hoody_h_seconds", "h", [0.1, 1], "outcome");
        var child = histogram.WithLabels("ok");
        child.Observe(0.05);
        child.Observe(0.5);
        child.Observe(5);
        var text = registry.Render();
        await Assert.That(text).Contains("hoody_h_seconds_bucket{outcome=\"ok\",le=\"0.1\"} 1\n");
        await Assert.That(text).Contains("hoody_h_seconds_bucket{outcome=\"ok\",le=\"1\"} 2\n");
        await Assert.That(text).Contains("hoody_h_seconds_bucket{outcome=\"ok\",le=\"+Inf\"} 3\n");
        await Assert.That(text).Contains("hoody_h_seconds_count{outcome=\"ok\"} 3\n");
        await Assert.That(text).Contains("hoody_h_seconds_sum{outcome=\"ok\"} 5.55\n");
    }

    [Test]
    public async Task Registering_a_name_twice_is_refused()
    {
        var registry = new MetricsRegistry();
        registry.Counter("hoody_x_total", "x");
        await Assert.That(() => registry.Counter("hoody_x_total", "x")).Throws<InvalidOperationException>();
    }

    [Test]
    public async Task Counters_never_go_down()
    {
        var registry = new MetricsRegistry();
        var counter = registry.Counter("hoody_n_total", "n", "reason");
        counter.WithLabels("a").Inc(2);
        await Assert.That(() => counter.WithLabels("a").Inc(-1)).Throws<ArgumentOutOfRangeException>();
        await Assert.That(() => counter.Inc(-5)).Throws<ArgumentOutOfRangeException>();
        await Assert.That(registry.Render()).Contains("hoody_n_total{reason=\"a\"} 2\n");
    }

    [Test]
    public async Task Before_scrape_callbacks_sample_values()
    {
        var registry = new MetricsRegistry();
        var gauge = registry.Gauge("hoody_depth", "d");
        var calls = 0;
        registry.BeforeScrape(() => gauge.Set(++calls * 10));
        await Assert.That(registry.Render()).Contains("hoody_depth 10\n");
        await Assert.That(registry.Render()).Contains("hoody_depth 20\n");
    }
}
