// The cache's settings, from its flags (docs/api.md (Cache)). Caching is active only with a namespace and a mode
// other than off.
namespace HoodyCurl.Cache;

public enum CacheMode { Off, ReadOnly, ReadWrite }

public sealed record CacheOptions
{
    /// <summary>--cache-namespace (ctn:&lt;project&gt;:&lt;container&gt;); null = no namespace, caching off.</summary>
    public string? Namespace { get; init; }
    /// <summary>--cache-mode, default off.</summary>
    public CacheMode Mode { get; init; } = CacheMode.Off;
    /// <summary>--cache-generation, default 0: entries of another generation are misses.</summary>
    public long Generation { get; init; }
    /// <summary>--cache-max-bytes, default 1 GiB: the directory's size bound (LRU eviction).</summary>
    public long MaxBytes { get; init; } = 1L << 30;
    /// <summary>--cache-max-object-bytes, default 64 MiB: largest stored object (as received).</summary>
    public long MaxObjectBytes { get; init; } = 64L << 20;
    /// <summary>--cache-max-object-bytes-decoded, default 256 MiB: largest decoded body (gzip-bomb guard).</summary>
    public long MaxObjectBytesDecoded { get; init; } = 256L << 20;
    /// <summary>&lt;storage-dir&gt;/cache.</summary>
    public string CacheDir { get; init; } = "cache";

    public bool Enabled => Namespace is not null && Mode != CacheMode.Off;
}
