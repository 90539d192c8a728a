// Generators for the randomized validation tests: text that mixes what parsers of untrusted input
// trip over (CR, LF, NUL, control and non-ASCII characters, lone surrogates, commas, colons, quotes,
// base64 and JSON punctuation) with enough well-formed structure to reach the success paths.
using System.Text;

namespace HoodyCurl.Requests.Tests.Validation;

internal static class HostileText
{
    private const string TokenChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
    private const string Printable = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

    private static readonly string[] Specials =
    [
        "\r", "\n", "\r\n", "\0", "\t", " ", ",", ", ", ":", ": ", ";", "=", "\"", "\\", "{", "}", "[", "]",
        "\u0001", "\u001f", "\u007f", "\u0085", "\u00a0", "\u00e9", "\u2028", "\ufeff", "\ud800", "\udc00", "\U0001F600",
        "%0d%0a", "+", "/", "-", "_", "==", "http://", "127.0.0.1", "[::1]", "@",
    ];

    public static string Token(Random random, int maxLength = 12)
    {
        var length = random.Next(1, maxLength + 1);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++) builder.Append(TokenChars[random.Next(TokenChars.Length)]);
        return builder.ToString();
    }

    /// <summary>Mostly printable text with, now and then, a special piece.</summary>
    public static string Text(Random random, int maxLength = 40)
    {
        var length = random.Next(0, maxLength + 1);
        var builder = new StringBuilder(length);
        var specialRate = random.Next(4) switch { 0 => 0, 1 => 2, 2 => 10, _ => 40 };
        while (builder.Length < length)
        {
            if (random.Next(100) < specialRate) builder.Append(Specials[random.Next(Specials.Length)]);
            else builder.Append(Printable[random.Next(Printable.Length)]);
        }
        return builder.ToString();
    }

    /// <summary>"Name: Value", sometimes with a hostile name or value, sometimes several joined by commas.</summary>
    public static string HeaderLine(Random random)
    {
        var count = random.Next(5) == 0 ? random.Next(2, 6) : 1;
        var parts = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var name = random.Next(6) == 0 ? Text(random, 10) : Token(random);
            var value = Text(random, 30);
            parts.Add(random.Next(20) == 0 ? name + value : $"{name}{(random.Next(2) == 0 ? ": " : ":")}{value}");
        }
        return string.Join(random.Next(2) == 0 ? "," : ", ", parts);
    }

    /// <summary>A JSON string literal whose content is <paramref name="text"/>, escaped in random but valid ways.</summary>
    public static string JsonString(Random random, string text)
    {
        var builder = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            if (c is '"' or '\\') builder.Append('\\').Append(c);
            else if (c < 0x20 || char.IsSurrogate(c) || random.Next(10) == 0) builder.Append($"\\u{(int)c:x4}");
            else builder.Append(c);
        }
        return builder.Append('"').ToString();
    }

    /// <summary>A random JSON value of any type; strings may hold lone surrogate escapes; nesting up to <paramref name="depth"/>.</summary>
    public static string JsonValue(Random random, int depth)
    {
        switch (random.Next(depth > 0 ? 9 : 7))
        {
            case 0: return "null";
            case 1: return random.Next(2) == 0 ? "true" : "false";
            case 2: return random.Next(-5, 100).ToString(System.Globalization.CultureInfo.InvariantCulture);
            case 3: return random.Next(4) switch { 0 => "1.5", 1 => "1e400", 2 => "-0", _ => "99999999999999999999" };
            case 4:
            case 5:
            case 6: return JsonString(random, Text(random));
            case 7:
                return "[" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => JsonValue(random, depth - 1))) + "]";
            default:
                return "{" + string.Join(",", Enumerable.Range(0, random.Next(4))
                    .Select(_ => JsonString(random, random.Next(3) == 0 ? Text(random, 8) : Token(random)) + ":" + JsonValue(random, depth - 1))) + "}";
        }
    }

    /// <summary>A JSON object of string values (a `headers` map), sometimes with hostile names or values.</summary>
    public static string JsonStringMap(Random random, int maxEntries = 6)
    {
        var entries = Enumerable.Range(0, random.Next(maxEntries + 1)).Select(_ =>
        {
            var name = random.Next(8) == 0 ? Text(random, 10) : Token(random);
            var value = random.Next(12) == 0 ? JsonValue(random, 1) : JsonString(random, Text(random, 30));
            return JsonString(random, name) + ":" + value;
        });
        return "{" + string.Join(",", entries) + "}";
    }

    /// <summary>Base64 of random bytes in a random alphabet and padding, or (sometimes) something that is not base64.</summary>
    public static string Base64ish(Random random)
    {
        var bytes = new byte[random.Next(0, 40)];
        random.NextBytes(bytes);
        var text = Convert.ToBase64String(bytes);
        if (random.Next(2) == 0) text = text.Replace('+', '-').Replace('/', '_');
        if (random.Next(2) == 0) text = text.TrimEnd('=');
        if (random.Next(4) == 0 && text.Length > 0)
        {
            var at = random.Next(text.Length);
            text = text[..at] + Specials[random.Next(Specials.Length)] + text[(at + 1)..];
        }
        return text;
    }

    /// <summary>An http(s) URL that passes the shape checks, or now and then one that does not.</summary>
    public static string Url(Random random)
    {
        return random.Next(10) switch
        {
            0 => Text(random, 30),
            1 => "http://" + Text(random, 20) + "/",
            2 => "ftp://" + Token(random) + "/",
            _ => $"{(random.Next(2) == 0 ? "http" : "https")}://{Token(random).ToLowerInvariant()}.example/{Token(random)}?q={Token(random)}",
        };
    }
}
