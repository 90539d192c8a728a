// IANA time-zone ids for schedules (docs/api.md D12: UTC unless the schedule names one). .NET reads
// them from the system's tzdata (/usr/share/zoneinfo), which works with InvariantGlobalization and in
// the Native AOT binary; Windows ids would need ICU and are refused. The id is checked for shape first
// so no caller text ever reaches the file system as a path.
using System.Diagnostics.CodeAnalysis;

namespace HoodyCurl.Scheduling;

internal static class ScheduleTimeZones
{
    /// <summary>The zone of a schedule created without `timezone`.</summary>
    public const string Default = "UTC";

    /// <summary>Longest accepted id (the longest IANA id is about 32 characters).</summary>
    public const int MaxLength = 64;

    public static bool TryFind(string? id, [NotNullWhen(true)] out TimeZoneInfo? zone)
    {
        zone = null;
        if (!IsWellFormed(id)) return false;
        if (id == Default)
        {
            zone = TimeZoneInfo.Utc;
            return true;
        }
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (TimeZoneNotFoundException)
        {
            return false;
        }
        catch (InvalidTimeZoneException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Letters, digits and `_ + -` in `/`-separated non-empty segments (no dots), within the length limit.</summary>
    private static bool IsWellFormed([NotNullWhen(true)] string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength || id[0] == '/' || id[^1] == '/') return false;
        var segmentStart = true;
        foreach (var c in id)
        {
            if (c == '/')
            {
                if (segmentStart) return false; // "//"
                segmentStart = true;
                continue;
            }
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '+' or '-')) return false;
            segmentStart = false;
        }
        return true;
    }
}
