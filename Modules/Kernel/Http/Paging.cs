// Pagination shared by every list route (docs/api.md: Pagination; D3/D16): `page` 1-based (default 1),
// `limit` optional (absent = every item) and capped at 1000; the answer carries `meta` and `has_more`.
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Kernel.Http;

public static class Paging
{
    /// <summary>Largest page size (docs/api.md D3): larger limits are capped, not refused.</summary>
    public const int MaxLimit = 1000;

    /// <summary>Reads `page` and `limit`; a malformed value is 400 naming the parameter.</summary>
    public static (int Page, int? Limit) Read(IQueryCollection query)
    {
        var page = QueryValues.Integer(query, "page", min: 1) ?? 1;
        var limit = QueryValues.Integer(query, "limit", min: 1);
        return ((int)Math.Min(page, int.MaxValue), limit is { } l ? (int)Math.Min(l, MaxLimit) : null);
    }

    /// <summary>Writes `meta` and `has_more`; without a limit `meta.limit` is the number of items returned.</summary>
    public static void WriteTail(Utf8JsonWriter w, long total, int page, int? limit, int returned)
    {
        w.WritePropertyName("meta");
        JsonSerializer.Serialize(w, new PageMeta(total, page, limit ?? returned), KernelJson.Default.PageMeta);
        w.WriteBoolean("has_more", limit is { } l && (long)(page - 1) * l + returned < total);
    }
}

/// <summary>The `meta` object of every list (docs/api.md D3).</summary>
public sealed record PageMeta(long Total, int Page, int Limit);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PageMeta))]
internal sealed partial class KernelJson : JsonSerializerContext;
