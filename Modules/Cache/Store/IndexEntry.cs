// One line of an index bucket (cacache's design): the key, the content's integrity and size, the time, and
// the metadata needed to serve and to judge freshness. Serialised by a source-generated context (AOT).
using System.Text.Json.Serialization;

namespace HoodyCurl.Cache.Store;

internal sealed record IndexEntry
{
    public const int CurrentSchema = 1;

    public required string Key { get; init; }
    /// <summary>"sha256-&lt;hex&gt;" of the body; null marks a deletion (tombstone line).</summary>
    public string? Integrity { get; init; }
    public long Size { get; init; }
    /// <summary>Unix milliseconds when the line was written.</summary>
    public long Time { get; init; }
    public int Schema { get; init; } = CurrentSchema;
    public long Generation { get; init; }
    public int Status { get; init; }
    public List<string[]> Headers { get; init; } = [];
    /// <summary>Vary secondary key: lower-case header name → the request's value when stored.</summary>
    public Dictionary<string, string> Vary { get; init; } = [];
    public string? PinIp { get; init; }
    public long RequestTime { get; init; }
    public long ResponseTime { get; init; }

    [JsonIgnore]
    public string? ContentHash => Integrity is { } i && i.StartsWith("sha256-", StringComparison.Ordinal) ? i[7..] : null;

    [JsonIgnore]
    public IReadOnlyList<KeyValuePair<string, string>> HeaderList => Facts.HeaderList;

    private Derived? _derived;

    /// <summary>What a lookup needs from this line, parsed once and kept with the line in memory (a hit then parses no
    /// header). Rebuilt when a `with` copy changed what it depends on.</summary>
    [JsonIgnore]
    internal Derived Facts
    {
        get
        {
            var d = _derived;
            if (d is null || !ReferenceEquals(d.Source, Headers) || d.Status != Status || d.ResponseTime != ResponseTime || d.Size != Size)
                _derived = d = new Derived(this);
            return d;
        }
    }

    internal sealed class Derived
    {
        public Derived(IndexEntry e)
        {
            Source = e.Headers;
            Status = e.Status;
            ResponseTime = e.ResponseTime;
            Size = e.Size;
            HeaderList = e.Headers.Where(h => h.Length == 2).Select(h => new KeyValuePair<string, string>(h[0], h[1])).ToList();
            var served = HeaderList.ToList();
            served.Add(new("Content-Length", e.Size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            ServedHeaders = served;
            CacheControl = Policy.CacheControl.Parse(HeaderList);
            Lifetime = Policy.CachePolicy.FreshnessLifetime(e.Status, HeaderList, DateTimeOffset.FromUnixTimeMilliseconds(e.ResponseTime));
            Date = Policy.CachePolicy.HttpDate(HeaderList, "date");
            AgeValue = long.TryParse(Policy.CachePolicy.Header(HeaderList, "age"), out var a) && a >= 0 ? TimeSpan.FromSeconds(a) : TimeSpan.Zero;
        }

        public List<string[]> Source { get; }
        public int Status { get; }
        public long ResponseTime { get; }
        public long Size { get; }
        public IReadOnlyList<KeyValuePair<string, string>> HeaderList { get; }
        /// <summary>The stored head as served: the stored headers plus Content-Length of the stored body.</summary>
        public IReadOnlyList<KeyValuePair<string, string>> ServedHeaders { get; }
        public Policy.CacheControl CacheControl { get; }
        public TimeSpan Lifetime { get; }
        public DateTimeOffset? Date { get; }
        public TimeSpan AgeValue { get; }
    }

    /// <summary>The Vary signature: entries with the same one replace each other.</summary>
    [JsonIgnore]
    public string VarySignature => string.Join("\n", Vary.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => v.Key + "\0" + v.Value));
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(IndexEntry))]
internal sealed partial class IndexJson : JsonSerializerContext;
