// Pagination of the list route (rest.md §10, decisions D3/D16): `page` 1-based (default 1), `limit`
// optional (absent = every item), capped at 1000; anything else is 400 naming the parameter.
// (The jobs module reads pagination the same way; the rule could move to the kernel.)
using System.Globalization;
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Sessions.Endpoints;

internal static class Paging
{
    /// <summary>Largest page size (decisions D3): larger limits are capped, not refused.</summary>
    public const int MaxLimit = 1000;

    public static (int Page, int? Limit) Read(IQueryCollection query)
    {
        var page = Integer(query, "page") ?? 1;
        var limit = Integer(query, "limit");
        return ((int)Math.Min(page, int.MaxValue), limit is { } l ? (int)Math.Min(l, MaxLimit) : null);
    }

    /// <summary>`meta` and `has_more`; without a limit `meta.limit` is the number of items returned.</summary>
    public static void WriteTail(Utf8JsonWriter w, long total, int page, int? limit, int returned)
    {
        w.WriteStartObject("meta");
        w.WriteNumber("total", total);
        w.WriteNumber("page", page);
        w.WriteNumber("limit", limit ?? returned);
        w.WriteEndObject();
        w.WriteBoolean("has_more", limit is { } l && (long)(page - 1) * l + returned < total);
    }

    private static long? Integer(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var values) || values.Count == 0 || string.IsNullOrEmpty(values[^1])) return null;
        var raw = values[^1]!;
        if (!long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
        {
            var shown = string.Concat((raw.Length > 32 ? raw[..32] : raw).Select(c => char.IsControl(c) ? '?' : c));
            throw new ApiErrorException(ApiError.Validation($"query parameter '{name}' must be an integer of at least 1, got '{shown}'"));
        }
        return value;
    }
}
