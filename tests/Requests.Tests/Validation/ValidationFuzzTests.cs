// Randomized tests of the parsers that see untrusted input (GET-bridge query, header splitter, POST
// body), with fixed seeds so a failure is reproducible and the run time bounded. Nothing but a 400
// ApiErrorException may escape, and whatever parses keeps the invariants the engine relies on.
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Requests.Tests.Validation;

public partial class ValidationFuzzTests
{
    private const int Iterations = 5000;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    private static readonly string[] BridgeKeys =
    [
        "url", "method", "response", "mode", "session_id", "follow_redirects", "timeout", "user_agent", "referer", "bearer_token",
        "save", "save_path", "insecure", "compressed", "job_name", "data", "body", "json", "data_base64", "body_base64",
        "header", "header", "header", "headers", "headers", "proxy", "cacert",
    ];

    private static readonly string[] JsonFields =
    [
        "url", "method", "headers", "headers", "user_agent", "referer", "cookie", "auth_user", "auth_password", "auth_method",
        "bearer_token", "data", "json", "form", "timeout", "connect_timeout", "max_redirects", "follow_redirects", "max_filesize",
        "insecure", "cert_type", "compressed", "tcp_nodelay", "keepalive", "keepalive_time", "range", "speed_limit", "speed_time",
        "save", "save_path", "response", "mode", "job_name", "session_id", "retry_count", "retry_delay", "schedule",
        "proxy", "proxy_user", "proxy_password", "cacert", "cert", "key", "data_base64", "header", "body",
    ];

    [GeneratedRegex("""^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$""")]
    private static partial Regex TokenPattern();

    [GeneratedRegex("""^[^\x00-\x08\x0a-\x1f\x7f]*$""")]
    private static partial Regex HeaderValuePattern();

    [GeneratedRegex(""",[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+:""")]
    private static partial Regex NewHeaderAfterComma();

    [Test]
    public async Task Get_bridge_query_throws_only_400_and_keeps_the_invariants()
    {
        var random = new Random(20261123);
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        int parsed = 0, refused = 0, withHeaders = 0;
        for (var i = 0; i < Iterations && clock.Elapsed < Budget; i++)
        {
            var pairs = new List<KeyValuePair<string, string?>>();
            if (random.Next(20) != 0) pairs.Add(KeyValuePair.Create("url", (string?)HostileText.Url(random)));
            for (var n = random.Next(0, 8); n > 0; n--)
            {
                var key = random.Next(15) == 0 ? HostileText.Text(random, 8) : BridgeKeys[random.Next(BridgeKeys.Length)];
                pairs.Add(KeyValuePair.Create(key, random.Next(30) == 0 ? null : BridgeValue(random, key)));
            }
            var shown = string.Join("&", pairs.Select(p => $"{p.Key}={p.Value}"));
            try
            {
                var request = GetBridgeQuery.Parse(pairs, RequestLimits.Default);
                parsed++;
                if (request.Headers is { Count: > 0 }) withHeaders++;
                if (Invariants(request) is { } broken) failures.Add($"{Escape(shown)}: {broken}");
                var base64 = pairs.LastOrDefault(p => p.Key is "data_base64" or "body_base64");
                if (base64.Key is not null && request.DataBytes is null) failures.Add($"{Escape(shown)}: data_base64 given but no bytes");
            }
            catch (ApiErrorException e) when (e.Error.Status == 400 && e.Error.Code == ErrorCodes.Validation)
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"{Escape(shown)}: threw {e.GetType().Name}: {e.Message}");
            }
        }

        await Assert.That(string.Join('\n', failures.Take(20))).IsEqualTo(string.Empty);
        await Assert.That(parsed + refused).IsEqualTo(Iterations);
        await Assert.That(parsed).IsGreaterThan(Iterations / 10);
        await Assert.That(refused).IsGreaterThan(Iterations / 10);
        await Assert.That(withHeaders).IsGreaterThan(Iterations / 20);
    }

    [Test]
    public async Task Header_splitter_throws_only_400_and_yields_only_clean_headers()
    {
        var random = new Random(7);
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        int parsed = 0, refused = 0;
        for (var i = 0; i < 2 * Iterations && clock.Elapsed < Budget; i++)
        {
            var value = random.Next(3) == 0 ? HostileText.Text(random, 80) : HostileText.HeaderLine(random);
            try
            {
                var headers = HeaderSplitter.Split(value, 16384);
                parsed++;
                if (headers.Count == 0) failures.Add($"{Escape(value)}: no header and no error");
                foreach (var h in headers)
                {
                    if (CleanHeader(h) is { } broken) failures.Add($"{Escape(value)}: {broken}");
                    if (h.Value.Length > 0 && (h.Value[0] is ' ' or '\t' || h.Value[^1] is ' ' or '\t')) failures.Add($"{Escape(value)}: value not trimmed");
                }
            }
            catch (ApiErrorException e) when (e.Error.Status == 400 && e.Error.Code == ErrorCodes.Validation)
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"{Escape(value)}: threw {e.GetType().Name}: {e.Message}");
            }
        }

        await Assert.That(string.Join('\n', failures.Take(20))).IsEqualTo(string.Empty);
        await Assert.That(parsed + refused).IsEqualTo(2 * Iterations);
        await Assert.That(parsed).IsGreaterThan(Iterations / 5);
        await Assert.That(refused).IsGreaterThan(Iterations / 5);
    }

    [Test]
    public async Task Joined_well_formed_headers_split_back_into_the_same_headers()
    {
        var random = new Random(20260511);
        var failures = new List<string>();
        var joinedWithComma = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var headers = new List<HeaderEntry>();
            for (var n = random.Next(1, 9); n > 0; n--)
            {
                string value;
                do value = WellFormedValue(random);
                while (NewHeaderAfterComma().IsMatch(value));
                headers.Add(new HeaderEntry(HostileText.Token(random, 20), value));
            }
            var joined = string.Join(random.Next(2) == 0 ? "," : ", ", headers.Select(h => $"{h.Name}:{(random.Next(2) == 0 ? " " : "")}{h.Value}"));
            if (headers.Count > 1) joinedWithComma++;
            try
            {
                var split = HeaderSplitter.Split(joined, 16384);
                if (!split.SequenceEqual(headers)) failures.Add($"{Escape(joined)}: split into {split.Count}: {Escape(string.Join(" | ", split))}");
            }
            catch (Exception e)
            {
                failures.Add($"{Escape(joined)}: threw {e.GetType().Name}: {e.Message}");
            }
        }

        await Assert.That(string.Join('\n', failures.Take(20))).IsEqualTo(string.Empty);
        await Assert.That(joinedWithComma).IsGreaterThan(Iterations / 2);
    }

    [Test]
    public async Task Post_body_throws_only_400_and_never_accepts_a_rejected_field()
    {
        var random = new Random(424242);
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        int parsed = 0, refused = 0, rejectedRefused = 0;
        for (var i = 0; i < Iterations && clock.Elapsed < Budget; i++)
        {
            var (json, rejectedWithValue) = RandomRequestJson(random);
            try
            {
                var request = CurlRequestJson.Parse(Encoding.UTF8.GetBytes(json), RequestLimits.Default);
                parsed++;
                if (rejectedWithValue is not null) failures.Add($"{Escape(json)}: accepted '{rejectedWithValue}' with a value");
                if (Invariants(request) is { } broken) failures.Add($"{Escape(json)}: {broken}");
            }
            catch (ApiErrorException e) when (e.Error.Status == 400 && e.Error.Code == ErrorCodes.Validation)
            {
                refused++;
                if (rejectedWithValue is not null) rejectedRefused++;
            }
            catch (Exception e)
            {
                failures.Add($"{Escape(json)}: threw {e.GetType().Name}: {e.Message}");
            }
        }

        await Assert.That(string.Join('\n', failures.Take(20))).IsEqualTo(string.Empty);
        await Assert.That(parsed + refused).IsEqualTo(Iterations);
        await Assert.That(parsed).IsGreaterThan(Iterations / 10);
        await Assert.That(rejectedRefused).IsGreaterThan(Iterations / 20);
    }

    [Test]
    public async Task Mutated_post_bodies_throw_only_400()
    {
        var random = new Random(99);
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        int parsed = 0, refused = 0;
        for (var i = 0; i < Iterations && clock.Elapsed < Budget; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(RandomRequestJson(random, hostile: false).Json).ToList();
            for (var m = random.Next(1, 6); m > 0 && bytes.Count > 0; m--)
            {
                var at = random.Next(bytes.Count);
                switch (random.Next(5))
                {
                    case 0: bytes[at] = (byte)random.Next(256); break;
                    case 1: bytes.Insert(at, (byte)random.Next(256)); break;
                    case 2: bytes.RemoveAt(at); break;
                    case 3: bytes.RemoveRange(at, bytes.Count - at); break;
                    default: bytes.InsertRange(at, Encoding.UTF8.GetBytes(random.Next(2) == 0 ? "[[[[[[[[[[" : "\\ud800")); break;
                }
            }
            var input = bytes.ToArray();
            try
            {
                var request = CurlRequestJson.Parse(input, RequestLimits.Default);
                parsed++;
                if (Invariants(request) is { } broken) failures.Add($"{Escape(Encoding.Latin1.GetString(input))}: {broken}");
            }
            catch (ApiErrorException e) when (e.Error.Status == 400 && e.Error.Code == ErrorCodes.Validation)
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"{Escape(Encoding.Latin1.GetString(input))}: threw {e.GetType().Name}: {e.Message}");
            }
        }

        await Assert.That(string.Join('\n', failures.Take(20))).IsEqualTo(string.Empty);
        await Assert.That(parsed + refused).IsEqualTo(Iterations);
        await Assert.That(refused).IsGreaterThan(Iterations / 2);
    }

    [Test]
    public async Task Data_base64_in_either_alphabet_with_or_without_padding_decodes_to_the_bytes()
    {
        var random = new Random(31337);
        var failures = new List<string>();
        for (var i = 0; i < Iterations; i++)
        {
            var bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            var text = Convert.ToBase64String(bytes);
            if (random.Next(2) == 0) text = text.Replace('+', '-').Replace('/', '_');
            if (random.Next(2) == 0) text = text.TrimEnd('=');
            var key = random.Next(2) == 0 ? "data_base64" : "body_base64";
            try
            {
                var request = GetBridgeQuery.Parse([KeyValuePair.Create("url", (string?)"http://example.com/"), KeyValuePair.Create(key, (string?)text)], RequestLimits.Default);
                if (request.DataBytes is null || !request.DataBytes.AsSpan().SequenceEqual(bytes)) failures.Add($"{key}={text}: decoded to other bytes");
            }
            catch (Exception e)
            {
                failures.Add($"{key}={text}: threw {e.GetType().Name}: {e.Message}");
            }
        }

        await Assert.That(string.Join('\n', failures.Take(20))).IsEqualTo(string.Empty);
    }

    // ---- generators ------------------------------------------------------------------------------------

    private static string BridgeValue(Random random, string key) => key switch
    {
        "url" => HostileText.Url(random),
        "header" => HostileText.HeaderLine(random),
        "headers" => random.Next(6) == 0 ? HostileText.Text(random) : HostileText.JsonStringMap(random),
        "json" => random.Next(6) == 0 ? HostileText.Text(random) : HostileText.JsonValue(random, random.Next(6) == 0 ? 80 : 4),
        "data_base64" or "body_base64" => HostileText.Base64ish(random),
        "follow_redirects" or "save" or "insecure" or "compressed" => random.Next(3) == 0 ? HostileText.Text(random, 5) : random.Next(2) == 0 ? "true" : "0",
        "timeout" => random.Next(3) == 0 ? HostileText.Text(random, 6) : random.Next(-5, 100000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        "method" => random.Next(3) == 0 ? HostileText.Text(random, 8) : HostileText.Token(random, 8),
        "response" => random.Next(3) == 0 ? HostileText.Text(random, 8) : random.Next(2) == 0 ? "json" : "transparent",
        "mode" => random.Next(3) == 0 ? HostileText.Text(random, 8) : "sync",
        "session_id" => random.Next(3) == 0 ? HostileText.Text(random, 8) : HostileText.Token(random, 20),
        "save_path" => random.Next(3) == 0 ? HostileText.Text(random, 20) : $"{HostileText.Token(random)}/{HostileText.Token(random)}",
        _ => HostileText.Text(random),
    };

    /// <summary>A request body with random fields and values; reports a rejected field given a non-null value.</summary>
    private static (string Json, string? RejectedWithValue) RandomRequestJson(Random random, bool hostile = true)
    {
        var members = new List<string>();
        string? rejectedWithValue = null;
        if (random.Next(15) != 0) members.Add("\"url\":" + HostileText.JsonString(random, HostileText.Url(random)));
        for (var n = random.Next(0, 7); n > 0; n--)
        {
            var name = hostile && random.Next(20) == 0 ? HostileText.Text(random, 8) : JsonFields[random.Next(JsonFields.Length)];
            var value = FieldValue(random, name, hostile);
            if (Array.IndexOf(CurlRequestJson.RejectedFields, name) >= 0 && value != "null") rejectedWithValue ??= name;
            members.Add(HostileText.JsonString(random, name) + ":" + value);
        }
        return ("{" + string.Join(",", members) + "}", rejectedWithValue);
    }

    private static string FieldValue(Random random, string name, bool hostile)
    {
        if (hostile && random.Next(6) == 0) return HostileText.JsonValue(random, random.Next(8) == 0 ? 70 : 3);
        return name switch
        {
            "url" => HostileText.JsonString(random, HostileText.Url(random)),
            "headers" or "form" => HostileText.JsonStringMap(random, random.Next(10) == 0 ? 120 : 6),
            "json" => HostileText.JsonValue(random, 4),
            "timeout" or "connect_timeout" or "max_redirects" or "max_filesize" or "keepalive_time" or "speed_limit" or "speed_time"
                or "retry_count" or "retry_delay" => random.Next(-2, 200).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "follow_redirects" or "insecure" or "compressed" or "tcp_nodelay" or "keepalive" or "save" => random.Next(2) == 0 ? "true" : "false",
            "proxy" or "proxy_user" or "proxy_password" or "cacert" or "cert" or "key" =>
                random.Next(3) == 0 ? "null" : HostileText.JsonValue(random, 2),
            _ => random.Next(8) == 0 ? "null" : HostileText.JsonString(random, HostileText.Text(random)),
        };
    }

    private static string WellFormedValue(Random random)
    {
        var length = random.Next(0, 30);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            var c = random.Next(12) == 0 ? (random.Next(2) == 0 ? ' ' : '\t') : (char)random.Next(0x21, 0x7f);
            builder.Append(c);
        }
        return builder.ToString().Trim(' ', '\t');
    }

    // ---- invariants -------------------------------------------------------------------------------------

    /// <summary>What the engine relies on from any parsed request, or null when all hold.</summary>
    private static string? Invariants(CurlRequest r)
    {
        if (r.Url.Length == 0 || r.Url.Length > RequestLimits.Default.MaxUrlLength) return "url length out of bounds";
        if (r.Url.Any(c => c <= 0x20 || c == 0x7f)) return "url with a space or control character";
        if (r.Method is { } method && !TokenPattern().IsMatch(method)) return $"method '{Escape(method)}' is not a token";
        if (r.Headers is { } headers)
        {
            if (headers.Count > RequestLimits.Default.MaxHeaderCount) return "more headers than the limit";
            foreach (var h in headers) if (CleanHeader(h) is { } broken) return broken;
        }
        foreach (var (field, text) in new[] { ("user_agent", r.UserAgent), ("referer", r.Referer), ("cookie", r.Cookie), ("bearer_token", r.BearerToken),
                     ("auth_user", r.AuthUser), ("auth_password", r.AuthPassword) })
        {
            if (text is not null && text.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0) return $"{field} with CR, LF or NUL";
        }
        if (r.Form is { } form && form.Any(f => f.Name.Length == 0 || f.Name.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0 || f.Name.Contains('"')))
            return "form field name with CR, LF, NUL or a quote";
        if (r.AuthPassword is not null && r.AuthUser is null) return "auth_password without auth_user";
        var bodies = (r.Data is null ? 0 : 1) + (r.Json is null ? 0 : 1) + (r.Form is null ? 0 : 1);
        if (bodies > 1 && r.DataBytes is null) return "more than one body";
        return null;
    }

    private static string? CleanHeader(HeaderEntry h)
    {
        if (!TokenPattern().IsMatch(h.Name)) return $"header name '{Escape(h.Name)}' is not a token";
        if (!HeaderValuePattern().IsMatch(h.Value)) return $"header '{h.Name}' value has CR, LF, NUL or a control character";
        if (h.Name.Length + h.Value.Length > RequestLimits.Default.MaxHeaderBytes) return "header longer than the limit";
        return null;
    }

    private static string Escape(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text.Length > 300 ? text[..300] + "..." : text)
            builder.Append(c is < ' ' or >= '\u007f' ? $"\\u{(int)c:x4}" : c.ToString());
        return builder.ToString();
    }
}
