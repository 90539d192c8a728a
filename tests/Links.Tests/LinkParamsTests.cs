// Declared params: each value lands only where its declaration says, encoded for that place; nothing
// else of the stored request changes. The randomized test throws hostile text at every location.
using System.Text;
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Links.Tests;

public class LinkParamsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(100);

    private static CurlRequest Stored(string url = "https://api.example.com/v1/search?fixed=1", string? json = null) => new()
    {
        Url = url,
        Method = "POST",
        Headers = [new HeaderEntry("Authorization", "Bearer stored-secret")],
        Json = json,
    };

    private static CurlRequest Apply(CurlRequest stored, LinkParam[] declared, params (string Name, string? Value)[] given) =>
        LinkParams.Apply(stored, declared, name =>
        {
            var values = given.Where(g => g.Name == name).Select(g => g.Value).ToArray();
            return values.Length == 0 ? null : values;
        }, RequestLimits.Default, Timeout);

    private static async Task<ApiError> Refused(Func<object> action)
    {
        var e = await Assert.That(action).Throws<ApiErrorException>();
        await Assert.That(e!.Error.Status).IsEqualTo(400);
        return e.Error;
    }

    [Test]
    public async Task A_query_value_is_percent_encoded_and_appended_to_the_stored_query()
    {
        var q = new LinkParam("q", ParamLocation.Query, true, null);
        var result = Apply(Stored(), [q], ("q", "a b&c=d#e/f@g?h+i%j"));
        await Assert.That(result.Url).IsEqualTo("https://api.example.com/v1/search?fixed=1&q=a%20b%26c%3Dd%23e%2Ff%40g%3Fh%2Bi%25j");
        await Assert.That(result.Method).IsEqualTo("POST");
        await Assert.That(result.Headers!.Count).IsEqualTo(1);

        await Assert.That(Apply(Stored("http://h/p"), [q], ("q", "x")).Url).IsEqualTo("http://h/p?q=x");
        await Assert.That(Apply(Stored("http://h/p?"), [q], ("q", "x")).Url).IsEqualTo("http://h/p?q=x");
        await Assert.That(Apply(Stored("http://h/p?a=1&"), [q], ("q", "x")).Url).IsEqualTo("http://h/p?a=1&q=x");
        await Assert.That(Apply(Stored("http://h/p?a=1#frag"), [q], ("q", "x")).Url).IsEqualTo("http://h/p?a=1&q=x#frag");
    }

    [Test]
    public async Task Missing_repeated_invalid_or_non_matching_values_are_refused_naming_the_parameter()
    {
        var q = new LinkParam("q", ParamLocation.Query, true, "^[a-z]+$");
        await Assert.That((await Refused(() => Apply(Stored(), [q]))).Message).Contains("'q' is required");
        await Assert.That((await Refused(() => Apply(Stored(), [q], ("q", "a"), ("q", "b")))).Message).Contains("more than once");
        await Assert.That((await Refused(() => Apply(Stored(), [q], ("q", "ABC")))).Message).Contains("does not match its pattern");
        await Assert.That((await Refused(() => Apply(Stored(), [q], ("q", "abc\n")))).Message).Contains("does not match");
        await Assert.That((await Refused(() => Apply(Stored(), [q with { Pattern = null }], ("q", "a\ud800b")))).Message).Contains("not valid Unicode");
        await Assert.That(Apply(Stored(), [q], ("q", "abc")).Url).EndsWith("&q=abc");
        // Optional and absent: the stored request as it is.
        var optional = q with { Required = false };
        await Assert.That(Apply(Stored(), [optional]).Url).IsEqualTo(Stored().Url);
    }

    [Test]
    public async Task Header_values_with_line_breaks_or_control_characters_are_refused()
    {
        var h = new LinkParam("X-Tenant", ParamLocation.Header, true, null);
        foreach (var bad in new[] { "a\r\nHost: evil", "a\nX: 1", "a\rb", "a\0b", "a\u0001b", "a\u007fb" })
            await Refused(() => Apply(Stored(), [h], ("X-Tenant", bad)));
        var ok = Apply(Stored(), [h], ("X-Tenant", "acme corp; v=1"));
        await Assert.That(ok.Headers!.Last()).IsEqualTo(new HeaderEntry("X-Tenant", "acme corp; v=1"));
        await Assert.That(ok.Headers![0]).IsEqualTo(new HeaderEntry("Authorization", "Bearer stored-secret"));
        await Assert.That(ok.Url).IsEqualTo(Stored().Url);
    }

    [Test]
    public async Task Body_values_become_json_string_members_next_to_the_stored_ones()
    {
        var b = new LinkParam("comment", ParamLocation.Body, true, null);
        var result = Apply(Stored(json: "{\"fixed\":{\"n\":1}}"), [b], ("comment", "\"},\"admin\":true,\"x\":{\""));
        using var document = JsonDocument.Parse(result.Json!);
        var root = document.RootElement;
        await Assert.That(root.EnumerateObject().Count()).IsEqualTo(2);
        await Assert.That(root.GetProperty("fixed").GetProperty("n").GetInt32()).IsEqualTo(1);
        await Assert.That(root.GetProperty("comment").GetString()).IsEqualTo("\"},\"admin\":true,\"x\":{\"");
        var form = Apply(Stored() with { Form = [new HeaderEntry("a", "1")] }, [b], ("comment", "x"));
        await Assert.That(form.Form!.Count).IsEqualTo(2);
        await Assert.That(form.Form![1]).IsEqualTo(new HeaderEntry("comment", "x"));
    }

    [Test]
    public async Task Declarations_that_could_change_what_the_link_is_are_refused_at_creation()
    {
        var stored = Stored(json: "{\"a\":1}");
        await Refused(() => { LinkParams.CheckDeclarations([new LinkParam("Host", ParamLocation.Header, false, null)], stored, false); return 0; });
        await Refused(() => { LinkParams.CheckDeclarations([new LinkParam("content-length", ParamLocation.Header, false, null)], stored, false); return 0; });
        await Refused(() => { LinkParams.CheckDeclarations([new LinkParam("authorization", ParamLocation.Header, false, null)], stored, false); return 0; });
        await Refused(() => { LinkParams.CheckDeclarations([new LinkParam("fixed", ParamLocation.Query, false, null)], stored, false); return 0; });
        await Refused(() => { LinkParams.CheckDeclarations([new LinkParam("a", ParamLocation.Body, false, null)], stored, false); return 0; });
        await Refused(() => { LinkParams.CheckDeclarations([new LinkParam("b", ParamLocation.Body, false, null)], stored with { Json = null }, true); return 0; });
        await Refused(() => { LinkParams.CheckDeclarations([new LinkParam("b", ParamLocation.Body, false, null)], stored with { Json = null, Data = "x" }, false); return 0; });
        await Refused(() => { LinkParams.CheckDeclarations([new LinkParam("b", ParamLocation.Body, false, null)], stored with { Json = "[1]" }, false); return 0; });
        await Refused(() =>
        {
            LinkParams.CheckDeclarations([new LinkParam("q", ParamLocation.Query, false, null), new LinkParam("Q", ParamLocation.Header, false, null)], stored, false);
            return 0;
        });
        LinkParams.CheckDeclarations(
            [new LinkParam("q", ParamLocation.Query, true, null), new LinkParam("X-T", ParamLocation.Header, false, null), new LinkParam("b", ParamLocation.Body, false, null)],
            stored, false);
    }

    [Test]
    public async Task Patterns_run_on_the_non_backtracking_engine()
    {
        await Refused(() => LinkParams.Compile(@"^(a)\1$", Timeout));       // backreference
        await Refused(() => LinkParams.Compile(@"^(?=a)a$", Timeout));      // lookahead
        await Refused(() => LinkParams.Compile(@"^[a-$", Timeout));         // not a regex
        await Refused(() => LinkParams.Compile(@"a)|(b", Timeout));         // would escape the anchoring group
        var anchored = LinkParams.Compile("[a-z]+", Timeout);
        await Assert.That(anchored.IsMatch("abc")).IsTrue();
        await Assert.That(anchored.IsMatch("abc!")).IsFalse();            // the whole value, not a part of it
        await Assert.That(LinkParams.Compile("^[a-z]+$", Timeout).IsMatch("abc\n")).IsFalse();
        // Catastrophic for a backtracker (2^n paths for n letters); linear here. The generous timeout keeps
        // this a test of the engine, not of the machine's speed.
        var generous = TimeSpan.FromSeconds(60);
        var evil = LinkParams.Compile(@"^(a+)+$", generous);
        await Assert.That(evil.Options.HasFlag(System.Text.RegularExpressions.RegexOptions.NonBacktracking)).IsTrue();
        await Assert.That(evil.IsMatch(new string('a', 10_000) + "!")).IsFalse();
        await Assert.That(evil.MatchTimeout).IsEqualTo(generous);
        await Assert.That(LinkParams.Compile(@"^(a+)+$", Timeout).MatchTimeout).IsEqualTo(Timeout);
    }

    /// <summary>Hostile characters: separators of every syntax a value could try to break out of.</summary>
    private const string Hostile = "\r\n\0\t \"'&=?#/\\@:;,%+[]{}<>|^`$!*()~.-_\u0001\u007f\u0085\u2028\u00e9\u4e2d\ud83d\ude00";

    private static string RandomValue(Random random)
    {
        var length = random.Next(0, 40);
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            if (random.Next(3) == 0) text.Append((char)random.Next('a', 'z' + 1));
            else
            {
                var c = Hostile[random.Next(Hostile.Length)];
                if (char.IsHighSurrogate(c)) text.Append("\ud83d\ude00");
                else if (!char.IsLowSurrogate(c)) text.Append(c);
            }
        }
        return text.ToString();
    }

    [Test]
    public async Task Randomized_values_never_inject_a_line_break_change_the_host_or_leave_their_location()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var declared = new[]
        {
            new LinkParam("q", ParamLocation.Query, false, null),
            new LinkParam("X-Tenant", ParamLocation.Header, false, null),
            new LinkParam("note", ParamLocation.Body, false, null),
        };
        var stored = Stored("https://api.example.com:8443/v1/search?fixed=1#top", "{\"fixed\":true}");
        var storedUri = new Uri(stored.Url);
        var refusedHeaders = 0;
        for (var round = 0; round < 3000; round++)
        {
            var q = RandomValue(random);
            var h = RandomValue(random);
            var n = RandomValue(random);
            CurlRequest result;
            try
            {
                result = Apply(stored, declared, ("q", q), ("X-Tenant", h), ("note", n));
            }
            catch (ApiErrorException e)
            {
                // The only refusal: a header value that cannot be a header.
                await Assert.That(e.Error.Message).Contains("X-Tenant").Because($"seed {seed}");
                await Assert.That(HeaderRules.Check("X-Tenant", h, RequestLimits.Default.MaxHeaderBytes)).IsNotNull().Because($"seed {seed}");
                refusedHeaders++;
                continue;
            }
            // Query: nothing but unreserved characters and percent-escapes; same scheme, host, port, path, fragment.
            await Assert.That(result.Url.All(c => c > 0x20 && c < 0x7f)).IsTrue().Because($"seed {seed}: {result.Url}");
            var uri = new Uri(result.Url);
            await Assert.That(uri.Scheme).IsEqualTo(storedUri.Scheme);
            await Assert.That(uri.Host).IsEqualTo(storedUri.Host);
            await Assert.That(uri.Port).IsEqualTo(storedUri.Port);
            await Assert.That(uri.AbsolutePath).IsEqualTo(storedUri.AbsolutePath);
            await Assert.That(uri.Fragment).IsEqualTo(storedUri.Fragment);
            var pairs = uri.Query.TrimStart('?').Split('&');
            await Assert.That(pairs.Length).IsEqualTo(2).Because($"seed {seed}: {result.Url}");
            await Assert.That(pairs[0]).IsEqualTo("fixed=1");
            await Assert.That(pairs[1].StartsWith("q=", StringComparison.Ordinal)).IsTrue();
            await Assert.That(Uri.UnescapeDataString(pairs[1][2..])).IsEqualTo(q).Because($"seed {seed}");
            // Header: exactly the value, on its own line, no line break anywhere in any header.
            await Assert.That(result.Headers!.Count).IsEqualTo(2);
            await Assert.That(result.Headers![1]).IsEqualTo(new HeaderEntry("X-Tenant", h.Trim(' ', '\t')));
            await Assert.That(result.Headers!.All(x => !HeaderRules.HasLineBreakOrNul(x.Name + x.Value))).IsTrue();
            // Body: a string member equal to the value; the stored member untouched; nothing else.
            using var document = JsonDocument.Parse(result.Json!);
            await Assert.That(document.RootElement.EnumerateObject().Select(p => p.Name).ToArray()).IsEquivalentTo(new[] { "fixed", "note" });
            await Assert.That(document.RootElement.GetProperty("fixed").GetBoolean()).IsTrue();
            await Assert.That(document.RootElement.GetProperty("note").GetString()).IsEqualTo(n).Because($"seed {seed}");
            await Assert.That(result with { Url = stored.Url, Headers = stored.Headers, Json = stored.Json }).IsEqualTo(stored);
        }
        await Assert.That(refusedHeaders).IsGreaterThan(0).Because("the hostile alphabet must reach the header refusal");
        await Assert.That(refusedHeaders).IsLessThan(3000);
    }
}
