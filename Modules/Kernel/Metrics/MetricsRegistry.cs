// A small, allocation-light Prometheus registry: counters, gauges and histograms with fixed label
// names, plus collectors that sample values at scrape time. Our own instead of prometheus-net because
// it is tiny, carries trim annotations by construction, and keeps idle memory and start-up low.
using System.Collections.Concurrent;
using System.Text;

namespace HoodyCurl.Kernel.Metrics;

public sealed class MetricsRegistry
{
    private readonly List<MetricFamily> _families = [];
    private readonly List<Action<PrometheusTextWriter>> _collectors = [];
    private readonly Lock _gate = new();

    public Counter Counter(string name, string help, params string[] labelNames) =>
        Register(new Counter(name, help, labelNames));

    public Gauge Gauge(string name, string help, params string[] labelNames) =>
        Register(new Gauge(name, help, labelNames));

    public Histogram Histogram(string name, string help, double[] buckets, params string[] labelNames) =>
        Register(new Histogram(name, help, buckets, labelNames));

    /// <summary>The family registered under <paramref name="name"/>, if any (the host reads a module's gauges).</summary>
    public MetricFamily? Find(string name)
    {
        lock (_gate) return _families.FirstOrDefault(f => f.Name == name);
    }

    /// <summary>Adds a callback that writes sampled families (process facts, queue depths) at scrape time.</summary>
    public void AddCollector(Action<PrometheusTextWriter> collector)
    {
        lock (_gate) _collectors.Add(collector);
    }

    private T Register<T>(T family) where T : MetricFamily
    {
        lock (_gate)
        {
            if (_families.Any(f => f.Name == family.Name))
                throw new InvalidOperationException($"metric {family.Name} registered twice");
            _families.Add(family);
        }
        return family;
    }

    public string Render()
    {
        var writer = new PrometheusTextWriter();
        MetricFamily[] families;
        Action<PrometheusTextWriter>[] collectors;
        lock (_gate) { families = [.. _families]; collectors = [.. _collectors]; }
        foreach (var family in families) family.Write(writer);
        foreach (var collector in collectors) collector(writer);
        return writer.ToString();
    }
}

public abstract class MetricFamily(string name, string help, string type, string[] labelNames)
{
    public string Name { get; } = name;
    public string Help { get; } = help;
    public string Type { get; } = type;
    public string[] LabelNames { get; } = labelNames;

    internal abstract void Write(PrometheusTextWriter writer);

    protected static string Key(string[] values) => values.Length switch
    {
        0 => "",
        1 => values[0],
        _ => string.Join('\u0001', values),
    };

    protected void CheckArity(string[] values)
    {
        if (values.Length != LabelNames.Length)
            throw new ArgumentException($"metric {Name} takes {LabelNames.Length} label values, got {values.Length}");
    }
}

public sealed class Counter(string name, string help, string[] labelNames) : MetricFamily(name, help, "counter", labelNames)
{
    private readonly ConcurrentDictionary<string, Child> _children = new();

    public sealed class Child(string[] labels)
    {
        private long _value;
        internal string[] Labels { get; } = labels;
        public void Inc(long by = 1) => Interlocked.Add(ref _value, by);
        public long Value => Interlocked.Read(ref _value);
    }

    public Child WithLabels(params string[] values)
    {
        CheckArity(values);
        return _children.GetOrAdd(Key(values), _ => new Child(values));
    }

    public void Inc(long by = 1) => WithLabels().Inc(by);

    internal override void Write(PrometheusTextWriter writer)
    {
        writer.Header(this);
        if (LabelNames.Length == 0 && _children.IsEmpty) writer.Sample(Name, LabelNames, [], 0);
        foreach (var child in _children.Values.OrderBy(c => Key(c.Labels), StringComparer.Ordinal))
            writer.Sample(Name, LabelNames, child.Labels, child.Value);
    }
}

public sealed class Gauge(string name, string help, string[] labelNames) : MetricFamily(name, help, "gauge", labelNames)
{
    private readonly ConcurrentDictionary<string, Child> _children = new();

    public sealed class Child(string[] labels)
    {
        private long _bits;
        internal string[] Labels { get; } = labels;
        public double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits));
        public void Set(double value) => Interlocked.Exchange(ref _bits, BitConverter.DoubleToInt64Bits(value));
        public void Inc(double by = 1) => Add(by);
        public void Dec(double by = 1) => Add(-by);

        private void Add(double by)
        {
            long seen, next;
            do
            {
                seen = Interlocked.Read(ref _bits);
                next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + by);
            } while (Interlocked.CompareExchange(ref _bits, next, seen) != seen);
        }
    }

    public Child WithLabels(params string[] values)
    {
        CheckArity(values);
        return _children.GetOrAdd(Key(values), _ => new Child(values));
    }

    public void Set(double value) => WithLabels().Set(value);
    public void Inc(double by = 1) => WithLabels().Inc(by);
    public void Dec(double by = 1) => WithLabels().Dec(by);

    internal override void Write(PrometheusTextWriter writer)
    {
        writer.Header(this);
        if (LabelNames.Length == 0 && _children.IsEmpty) writer.Sample(Name, LabelNames, [], 0);
        foreach (var child in _children.Values.OrderBy(c => Key(c.Labels), StringComparer.Ordinal))
            writer.Sample(Name, LabelNames, child.Labels, child.Value);
    }
}

public sealed class Histogram : MetricFamily
{
    private readonly double[] _buckets;
    private readonly ConcurrentDictionary<string, Child> _children = new();

    public Histogram(string name, string help, double[] buckets, string[] labelNames) : base(name, help, "histogram", labelNames)
    {
        _buckets = [.. buckets.Order()];
    }

    /// <summary>Seconds buckets suited to request latencies, 1 ms to 60 s.</summary>
    public static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    public sealed class Child(string[] labels, double[] buckets)
    {
        private readonly long[] _counts = new long[buckets.Length + 1];
        private long _sumBits;
        internal string[] Labels { get; } = labels;

        public void Observe(double value)
        {
            var i = 0;
            while (i < buckets.Length && value > buckets[i]) i++;
            Interlocked.Increment(ref _counts[i]);
            long seen, next;
            do
            {
                seen = Interlocked.Read(ref _sumBits);
                next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + value);
            } while (Interlocked.CompareExchange(ref _sumBits, next, seen) != seen);
        }

        internal void Write(PrometheusTextWriter writer, string name, string[] labelNames)
        {
            long cumulative = 0;
            var names = labelNames.Append("le").ToArray();
            for (var i = 0; i < buckets.Length; i++)
            {
                cumulative += Interlocked.Read(ref _counts[i]);
                writer.Sample(name + "_bucket", names, [.. Labels, PrometheusTextWriter.FormatDouble(buckets[i])], cumulative);
            }
            cumulative += Interlocked.Read(ref _counts[buckets.Length]);
            writer.Sample(name + "_bucket", names, [.. Labels, "+Inf"], cumulative);
            writer.Sample(name + "_sum", labelNames, Labels, BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits)));
            writer.Sample(name + "_count", labelNames, Labels, cumulative);
        }
    }

    public Child WithLabels(params string[] values)
    {
        CheckArity(values);
        return _children.GetOrAdd(Key(values), _ => new Child(values, _buckets));
    }

    public void Observe(double value) => WithLabels().Observe(value);

    internal override void Write(PrometheusTextWriter writer)
    {
        writer.Header(this);
        if (LabelNames.Length == 0 && _children.IsEmpty) WithLabels();
        foreach (var child in _children.Values.OrderBy(c => Key(c.Labels), StringComparer.Ordinal))
            child.Write(writer, Name, LabelNames);
    }
}

/// <summary>Writes the Prometheus text exposition format (version 0.0.4).</summary>
public sealed class PrometheusTextWriter
{
    private readonly StringBuilder _text = new(4096);

    internal void Header(MetricFamily family) => Header(family.Name, family.Help, family.Type);

    public void Header(string name, string help, string type)
    {
        _text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    public void Sample(string name, string[] labelNames, string[] labelValues, double value)
    {
        _text.Append(name);
        if (labelNames.Length > 0)
        {
            _text.Append('{');
            for (var i = 0; i < labelNames.Length; i++)
            {
                if (i > 0) _text.Append(',');
                _text.Append(labelNames[i]).Append("=\"");
                foreach (var c in labelValues[i])
                {
                    switch (c)
                    {
                        case '\\': _text.Append("\\\\"); break;
                        case '"': _text.Append("\\\""); break;
                        case '\n': _text.Append("\\n"); break;
                        default: _text.Append(c); break;
                    }
                }
                _text.Append('"');
            }
            _text.Append('}');
        }
        _text.Append(' ').Append(FormatDouble(value)).Append('\n');
    }

    public static string FormatDouble(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" :
        double.IsNegativeInfinity(value) ? "-Inf" :
        double.IsNaN(value) ? "NaN" :
        value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    public override string ToString() => _text.ToString();
}
