using System.Text;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>Parses the auth-params of <c>Authorization: Digest k=v, k="quoted, \"escaped\"", ...</c>.</summary>
internal static class DigestHeader
{
    public static Dictionary<string, string>? Parse(string authorization)
    {
        const string Scheme = "Digest ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string text = authorization[Scheme.Length..];
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i])))
            {
                i++;
            }
            int nameStart = i;
            while (i < text.Length && text[i] != '=')
            {
                i++;
            }
            if (i >= text.Length)
            {
                break;
            }
            string name = text[nameStart..i].Trim();
            i++;
            parameters[name] = i < text.Length && text[i] == '"' ? ReadQuoted(text, ref i) : ReadToken(text, ref i);
        }
        return parameters;
    }

    private static string ReadQuoted(string text, ref int i)
    {
        var value = new StringBuilder();
        for (i++; i < text.Length && text[i] != '"'; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                i++;
            }
            value.Append(text[i]);
        }
        i++;
        return value.ToString();
    }

    private static string ReadToken(string text, ref int i)
    {
        int start = i;
        while (i < text.Length && text[i] != ',')
        {
            i++;
        }
        return text[start..i].Trim();
    }
}
