// Query-string values for the REST routes, each refusing a bad value with 400 naming the parameter.
using System.Globalization;
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Kernel.Http;

public static class QueryValues
{
    /// <summary>An optional integer parameter of at least <paramref name="min"/>; 400 when malformed.</summary>
    public static long? Integer(IQueryCollection query, string name, long min)
    {
        var raw = Single(query, name);
        if (raw is null) return null;
        if (!long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min)
            throw new ApiErrorException(ApiError.Validation($"query parameter '{name}' must be an integer of at least {min}, got '{ErrorText.Printable(raw)}'"));
        return value;
    }

    /// <summary>The parameter's value (the last one when repeated), or null when absent or empty.</summary>
    public static string? Single(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var values) || values.Count == 0) return null;
        var value = values[^1];
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>All values of a parameter, each also split at commas (how the SDK sends arrays).</summary>
    public static List<string> List(IQueryCollection query, string name)
    {
        var list = new List<string>();
        if (!query.TryGetValue(name, out var values)) return list;
        foreach (var value in values)
        {
            if (value is null) continue;
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                list.Add(part);
        }
        return list;
    }
}
