namespace HoodyCurl.Kernel;

/// <summary>Identifiers: lowercase hyphenated UUIDs (version 7, so they sort by creation time).</summary>
public static class Ids
{
    public static string New() => Guid.CreateVersion7().ToString("D");

    public static bool IsUuid(string value) => value.Length == 36 && Guid.TryParseExact(value, "D", out _);
}
