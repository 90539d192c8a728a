// The process's Prometheus registry, on prometheus-net (the design card's library): counters, gauges and
// histograms with fixed label names, values sampled at scrape time through before-collect callbacks, and the
// text exposition (format 0.0.4) for /metrics. Modules see only this small surface, so the names, labels and
// types of the contract live in each module's *Metrics class and the library stays in one place.
// Idle RSS and start-up with prometheus-net against the hand-written registry it replaced: bench/RESULTS.md.
using System.Text;
using Prom = Prometheus;

namespace HoodyCurl.Kernel.Metrics;

public sealed class MetricsRegistry
{
    private readonly Prom.CollectorRegistry _registry = Prom.Metrics.NewCustomRegistry();
    private readonly Prom.MetricFactory _factory;
    private readonly Dictionary<string, object> _families = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public MetricsRegistry()
    {
        _factory = Prom.Metrics.WithCustomRegistry(_registry);
    }

    public Counter Counter(string name, string help, params string[] labelNames)
    {
        Claim(name);
        return Keep(name, new Counter(_factory.CreateCounter(name, help, new Prom.CounterConfiguration { LabelNames = labelNames })));
    }

    public Gauge Gauge(string name, string help, params string[] labelNames)
    {
        Claim(name);
        return Keep(name, new Gauge(_factory.CreateGauge(name, help, new Prom.GaugeConfiguration { LabelNames = labelNames })));
    }

    public Histogram Histogram(string name, string help, double[] buckets, params string[] labelNames)
    {
        Claim(name);
        return Keep(name, new Histogram(_factory.CreateHistogram(name, help, new Prom.HistogramConfiguration { Buckets = buckets, LabelNames = labelNames })));
    }

    /// <summary>The family registered under <paramref name="name"/> (a <see cref="Counter"/>, <see cref="Gauge"/> or
    /// <see cref="Histogram"/>), if any: the host reads a module's gauges.</summary>
    public object? Find(string name)
    {
        lock (_gate) return _families.GetValueOrDefault(name);
    }

    /// <summary>Runs <paramref name="sample"/> before every scrape (process facts, queue depths set on gauges).</summary>
    public void BeforeScrape(Action sample) => _registry.AddBeforeCollectCallback(sample);

    /// <summary>Writes the text exposition (format 0.0.4) of every family to <paramref name="destination"/>.</summary>
    public Task WriteAsync(Stream destination, CancellationToken cancellationToken) =>
        _registry.CollectAndExportAsTextAsync(destination, cancellationToken);

    /// <summary>The text exposition as a string (tests and diagnostics).</summary>
    public string Render()
    {
        using var buffer = new MemoryStream();
        WriteAsync(buffer, CancellationToken.None).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>prometheus-net hands back the existing family for a repeated name; two owners of one name is a bug here.</summary>
    private void Claim(string name)
    {
        lock (_gate)
        {
            if (!_families.TryAdd(name, name)) throw new InvalidOperationException($"metric {name} registered twice");
        }
    }

    private T Keep<T>(string name, T family) where T : class
    {
        lock (_gate) _families[name] = family;
        return family;
    }
}

public sealed class Counter
{
    private readonly Prom.Counter _family;

    internal Counter(Prom.Counter family) => _family = family;

    public readonly struct Child
    {
        private readonly Prom.Counter.Child _child;

        internal Child(Prom.Counter.Child child) => _child = child;

        /// <summary>Adds <paramref name="by"/>; a counter never goes down, so a negative amount throws.</summary>
        public void Inc(long by = 1)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(by);
            _child.Inc(by);
        }

        /// <summary>Raises the counter to <paramref name="total"/> when it is higher (a total sampled at scrape time).</summary>
        public void IncTo(double total) => _child.IncTo(total);

        public long Value => (long)_child.Value;
    }

    public Child WithLabels(params string[] values) => new(_family.WithLabels(values));

    public void Inc(long by = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(by);
        _family.Inc(by);
    }

    /// <summary>Raises the counter to <paramref name="total"/> when it is higher (a total sampled at scrape time).</summary>
    public void IncTo(double total) => _family.IncTo(total);

    public long Value => (long)_family.Value;
}

public sealed class Gauge
{
    private readonly Prom.Gauge _family;

    internal Gauge(Prom.Gauge family) => _family = family;

    public readonly struct Child
    {
        private readonly Prom.Gauge.Child _child;

        internal Child(Prom.Gauge.Child child) => _child = child;

        public double Value => _child.Value;
        public void Set(double value) => _child.Set(value);
        public void Inc(double by = 1) => _child.Inc(by);
        public void Dec(double by = 1) => _child.Dec(by);
    }

    public Child WithLabels(params string[] values) => new(_family.WithLabels(values));
    public void Set(double value) => _family.Set(value);
    public void Inc(double by = 1) => _family.Inc(by);
    public void Dec(double by = 1) => _family.Dec(by);
    public double Value => _family.Value;
}

public sealed class Histogram
{
    private readonly Prom.Histogram _family;

    internal Histogram(Prom.Histogram family) => _family = family;

    /// <summary>Request latency buckets, in seconds.</summary>
    public static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    public readonly struct Child
    {
        private readonly Prom.Histogram.Child _child;

        internal Child(Prom.Histogram.Child child) => _child = child;

        public void Observe(double value) => _child.Observe(value);
        public long Count => _child.Count;
        public double Sum => _child.Sum;
    }

    public Child WithLabels(params string[] values) => new(_family.WithLabels(values));
    public void Observe(double value) => _family.Observe(value);
}
