using Microsoft.AspNetCore.Http;

namespace HoodyCurl.TestUpstream.Http;

/// <summary>
/// The query string as an ordered list of decoded pairs. <see cref="HttpRequest.Query"/> groups by
/// name and loses the order, which /response-headers and /cookies/set need to keep.
/// </summary>
internal static class QueryPairs
{
    public static List<KeyValuePair<string, string>> Parse(HttpRequest request)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        string query = request.QueryString.Value ?? "";
        foreach (string part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? part : part[..eq];
            string value = eq < 0 ? "" : part[(eq + 1)..];
            pairs.Add(new(Decode(name), Decode(value)));
        }
        return pairs;
    }

    public static int IntOrDefault(HttpRequest request, string name, int fallback) =>
        int.TryParse(request.Query[name], out int value) ? value : fallback;

    private static string Decode(string component) => Uri.UnescapeDataString(component.Replace('+', ' '));
}
