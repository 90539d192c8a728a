using Microsoft.AspNetCore.Http;

namespace HoodyCurl.TestUpstream.Http;

/// <summary>Request headers in the shape the JSON answers and traces use.</summary>
internal static class HeaderSnapshot
{
    /// <summary>Lowercase names; a repeated header's values joined with ", " as RFC 9110 allows.</summary>
    public static Dictionary<string, string> Lowercased(IHeaderDictionary headers)
    {
        var result = new Dictionary<string, string>(headers.Count, StringComparer.Ordinal);
        foreach (var (name, values) in headers)
        {
            result[name.ToLowerInvariant()] = string.Join(", ", values.ToArray());
        }
        return result;
    }
}
