using System.Globalization;

namespace HoodyCurl.Kernel.Time;

/// <summary>RFC 3339 UTC timestamps as the contract writes them, e.g. 2026-01-15T10:30:00.123Z.</summary>
public static class Rfc3339
{
    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
