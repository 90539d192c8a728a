// The cron grammar of docs/api.md D12 and docs/api.md (Schedules): six fields with seconds
// (`second minute hour day-of-month month day-of-week`, names, ranges, lists and steps as Cronos
// reads them) plus the five nicknames @yearly @monthly @weekly @daily @hourly. Everything else —
// classic 5-field crontab, a 7th (year) field, Go's `@every 5s`, Cronos' own extra macros
// (@every_second, @every_minute, @midnight, @annually) and expressions that never occur — is refused
// with 400 INVALID_CRON and the exact text `Invalid cron expression` the SDK docs quote.
//
// Cronos' ToString() drops a zero seconds field, so the store keeps the user's original text and
// re-parses it on start-up.
using Cronos;
using HoodyCurl.Kernel.Errors;

namespace HoodyCurl.Scheduling;

internal static class CronGrammar
{
    /// <summary>The message of every INVALID_CRON answer, verbatim (docs/api.md (Conventions)).</summary>
    public const string InvalidMessage = "Invalid cron expression";

    /// <summary>Longest accepted expression, in characters; a real one is far shorter.</summary>
    public const int MaxLength = 256;

    /// <summary>The accepted nicknames, each the 6-field expression it stands for.</summary>
    public static readonly IReadOnlyDictionary<string, string> Nicknames = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["@yearly"] = "0 0 0 1 1 *",
        ["@monthly"] = "0 0 0 1 * *",
        ["@weekly"] = "0 0 0 * * 0",
        ["@daily"] = "0 0 0 * * *",
        ["@hourly"] = "0 0 * * * *",
    };

    public static ApiError Invalid { get; } = new(400, ErrorCodes.InvalidCron, InvalidMessage);

    private static readonly char[] Blanks = [' ', '\t'];

    /// <summary>The answer to a classic 5-field crontab line: the contract's message plus a hint.</summary>
    public static ApiError InvalidFiveFields { get; } = Invalid with
    {
        Extra = [new("hint", "6 fields are needed, seconds first: 'second minute hour day-of-month month day-of-week' (e.g. '0 */5 * * * *' for every 5 minutes)")],
    };

    /// <summary>Parses <paramref name="text"/> or throws ApiErrorException 400 INVALID_CRON (with a hint for 5 fields).</summary>
    public static CronExpression Parse(string? text)
    {
        if (TryParse(text, out var expression)) return expression;
        var fields = text?.Trim(Blanks).Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
        throw new ApiErrorException(fields is { Length: 5 } && !fields[0].StartsWith('@') ? InvalidFiveFields : Invalid);
    }

    /// <summary>True when <paramref name="text"/> is an accepted expression that occurs at least once more.</summary>
    public static bool TryParse(string? text, out CronExpression expression)
    {
        expression = null!;
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxLength) return false;
        var trimmed = text.Trim(Blanks);
        if (trimmed.StartsWith('@'))
        {
            if (!Nicknames.TryGetValue(trimmed.ToLowerInvariant(), out var expanded)) return false;
            trimmed = expanded;
        }
        foreach (var c in trimmed)
        {
            // Printable ASCII and the two blanks only: no newlines, NULs or look-alike characters.
            if (c is not (' ' or '\t') && (c < '!' || c > '~')) return false;
        }
        var fields = trimmed.Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 6) return false;
        try
        {
            // Cronos wants single spaces; the stored text stays as the caller wrote it.
            if (!CronExpression.TryParse(string.Join(' ', fields), CronFormat.IncludeSeconds, out var parsed)) return false;
            // An expression that never occurs (e.g. 30 February) would be a schedule that never fires.
            if (parsed.GetNextOccurrence(DateTime.UtcNow) is null) return false;
            expression = parsed;
            return true;
        }
        catch (CronFormatException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>A parsed expression in its time zone: when a schedule fires next.</summary>
internal sealed class Timetable(CronExpression expression, TimeZoneInfo zone)
{
    public CronExpression Expression { get; } = expression;
    public TimeZoneInfo Zone { get; } = zone;

    /// <summary>
    /// The first occurrence strictly after <paramref name="after"/> (UTC), or null when there is none.
    /// Cronos resolves daylight-saving changes: a wall time skipped by a spring-forward fires at the
    /// first instant after the gap; a wall time repeated by a fall-back fires once, except for
    /// expressions whose seconds, minutes or hours step through the repeated hour, which fire in both.
    /// </summary>
    public DateTimeOffset? Next(DateTimeOffset after) =>
        Expression.GetNextOccurrence(after, Zone)?.ToUniversalTime();

    /// <summary>Parses the stored cron text and time-zone id; null when either is no longer valid.</summary>
    public static Timetable? TryCreate(string cron, string timeZone) =>
        CronGrammar.TryParse(cron, out var expression) && ScheduleTimeZones.TryFind(timeZone, out var zone)
            ? new Timetable(expression, zone)
            : null;
}
