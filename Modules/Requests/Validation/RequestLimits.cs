namespace HoodyCurl.Requests.Validation;

/// <summary>Input limits shared by every door; each comes from a flag (see RequestsOptions).</summary>
public sealed record RequestLimits
{
    /// <summary>Longest accepted target URL, in characters. Default 8192.</summary>
    public int MaxUrlLength { get; init; } = 8192;
    /// <summary>Most extra request headers. Default 100.</summary>
    public int MaxHeaderCount { get; init; } = 100;
    /// <summary>Longest single header (name + value) in bytes. Default 16384.</summary>
    public int MaxHeaderBytes { get; init; } = 16384;
    /// <summary>Deepest JSON nesting accepted in a request body. Default 64.</summary>
    public int MaxJsonDepth { get; init; } = 64;
    /// <summary>Highest `retry_count`. Default 10.</summary>
    public int MaxRetryCount { get; init; } = 10;
    /// <summary>Highest `retry_delay` in seconds. Default 60.</summary>
    public int MaxRetryDelaySecs { get; init; } = 60;
    /// <summary>Highest `timeout` and `connect_timeout` in seconds (larger values are capped). Default 3600.</summary>
    public int MaxTimeoutSecs { get; init; } = 3600;

    public static readonly RequestLimits Default = new();
}
