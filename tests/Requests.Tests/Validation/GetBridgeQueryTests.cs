// Table-driven tests of the GET bridge (rest.md §3.2–3.3, decisions D7): every parameter's errors name
// it, header= and headers= are checked for injection and merged, data_base64 takes both alphabets.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Requests.Tests.Validation;

public class GetBridgeQueryTests
{
    private const string Url = "http://example.com/x";

    internal static CurlRequest Parse(RequestLimits? limits, params (string Key, string? Value)[] pairs) =>
        GetBridgeQuery.Parse(pairs.Select(p => KeyValuePair.Create(p.Key, p.Value)), limits ?? RequestLimits.Default);

    private static CurlRequest Parse(params (string Key, string? Value)[] pairs) => Parse(null, [("url", Url), .. pairs]);

    private static Task<ApiError> Refused(Func<CurlRequest> parse) => CurlRequestJsonTests.Refused(parse);

    [Test]
    [Arguments("method", "GE T", "'method'")]
    [Arguments("method", "GET\r\n", "'method'")]
    [Arguments("response", "xml", "'response'")]
    [Arguments("mode", "later", "'mode'")]
    [Arguments("session_id", "a b", "'session_id'")]
    [Arguments("follow_redirects", "maybe", "'follow_redirects'")]
    [Arguments("save", "2", "'save'")]
    [Arguments("insecure", "", "'insecure'")]
    [Arguments("compressed", "on", "'compressed'")]
    [Arguments("timeout", "abc", "'timeout'")]
    [Arguments("timeout", "0", "'timeout'")]
    [Arguments("timeout", "-1", "'timeout'")]
    [Arguments("timeout", "+5", "'timeout'")]
    [Arguments("timeout", " 5", "'timeout'")]
    [Arguments("timeout", "99999999999999", "'timeout'")]
    [Arguments("save_path", "../x", "'save_path'")]
    [Arguments("save_path", "", "'save_path'")]
    [Arguments("user_agent", "a\r\nX: 1", "'user_agent'")]
    [Arguments("referer", "a\nb", "'referer'")]
    [Arguments("bearer_token", "a\0b", "'bearer_token'")]
    [Arguments("json", "{not json", "'json'")]
    [Arguments("json", "", "'json'")]
    [Arguments("data_base64", "!!!!", "'data_base64'")]
    [Arguments("body_base64", "A", "'data_base64'")]
    [Arguments("headers", "{not json", "'headers'")]
    [Arguments("headers", "[]", "'headers'")]
    [Arguments("headers", "\"X-A: 1\"", "'headers'")]
    [Arguments("headers", "{\"X-A\":\"\\ud800\"}", "'headers'")]
    [Arguments("headers", "{\"X-A\":1}", "'X-A'")]
    [Arguments("headers", "{\"X-A\":{\"b\":{\"c\":{\"d\":1}}}}", "'headers'")]
    [Arguments("header", "NoColon", "Name: Value")]
    [Arguments("header", "", "Name: Value")]
    public async Task Bad_parameter_names_it(string key, string value, string fragment)
    {
        var error = await Refused(() => Parse((key, value)));
        await Assert.That(error.Message).Contains(fragment);
    }

    [Test]
    [Arguments(null)]
    [Arguments("")]
    public async Task Missing_or_empty_url_is_refused(string? url)
    {
        var pairs = url is null ? Array.Empty<(string, string?)>() : [("url", url)];
        var error = await Refused(() => Parse(null, pairs));
        await Assert.That(error.Message).IsEqualTo("query parameter 'url' is required");
    }

    [Test]
    public async Task Url_limit_and_shape_are_checked()
    {
        var limits = RequestLimits.Default with { MaxUrlLength = 30 };
        var error = await Refused(() => Parse(limits, ("url", "http://example.com/" + new string('a', 12))));
        await Assert.That(error.Message).Contains("longer than 30 characters");
        await Refused(() => Parse(null, ("url", "example.com")));
        await Refused(() => Parse(null, ("url", "http://a b/")));
    }

    [Test]
    [Arguments("header", "X-A: a\r\nX-B: b", "header 'X-A'")]
    [Arguments("header", "X-A: a\0", "header 'X-A'")]
    [Arguments("header", "X-A: a\u0001", "header 'X-A'")]
    [Arguments("header", "X-A\r\n: a", "header name")]
    [Arguments("header", "\r\nX-A: a", "header name")]
    [Arguments("header", "\nX-A: a", "header name")]
    [Arguments("header", "X-A\0: a", "header name")]
    [Arguments("header", "X A: a", "header name")]
    [Arguments("header", ": a", "header name")]
    [Arguments("header", "X-\u00e9: a", "header name")]
    [Arguments("headers", "{\"X-A\":\"a\\r\\nX-B: b\"}", "header 'X-A'")]
    [Arguments("headers", "{\"X-A\":\"a\\u0000\"}", "header 'X-A'")]
    [Arguments("headers", "{\"X-A\\n\":\"a\"}", "header name")]
    [Arguments("headers", "{\"\":\"a\"}", "header name")]
    public async Task Header_injection_is_refused(string key, string value, string fragment)
    {
        var error = await Refused(() => Parse((key, value)));
        await Assert.That(error.Message).Contains(fragment);
    }

    [Test]
    public async Task Header_entries_win_over_headers_json_and_are_split_like_the_sdk_sends_them()
    {
        var r = Parse(("header", "X-One: 1"), ("header", "X-Two: 2,X-Three: 3"), ("header", "Accept: text/html, application/json"),
            ("headers", "{\"X-Four\":\"4\",\"x-one\":\"loses\"}"), ("header", "\t X-Tab \t:\t v \t"));
        await Assert.That(r.Headers!.Select(h => $"{h.Name}={h.Value}")).IsEquivalentTo(new[]
        {
            "X-Four=4", "X-One=1", "X-Two=2", "X-Three=3", "Accept=text/html, application/json", "X-Tab=v",
        });
    }

    [Test]
    public async Task Header_count_and_size_limits_hold_across_header_and_headers()
    {
        var limits = RequestLimits.Default with { MaxHeaderCount = 3, MaxHeaderBytes = 16 };
        var ok = Parse(limits, ("url", Url), ("header", "A: 1,B: 2"), ("headers", "{\"C\":\"3\"}"));
        await Assert.That(ok.Headers!.Count).IsEqualTo(3);
        var tooMany = await Refused(() => Parse(limits, ("url", Url), ("header", "A: 1,B: 2"), ("headers", "{\"C\":\"3\",\"D\":\"4\"}")));
        await Assert.That(tooMany.Message).Contains("too many headers: 4");
        var tooBig = await Refused(() => Parse(limits, ("url", Url), ("header", "X-Big: " + new string('v', 12))));
        await Assert.That(tooBig.Message).Contains("longer than 16 bytes");
        var tooBigJson = await Refused(() => Parse(limits, ("url", Url), ("headers", $"{{\"X-Big\":\"{new string('v', 12)}\"}}")));
        await Assert.That(tooBigJson.Message).Contains("longer than 16 bytes");
    }

    [Test]
    [Arguments(new byte[] { })]
    [Arguments(new byte[] { 0 })]
    [Arguments(new byte[] { 0xfb })]
    [Arguments(new byte[] { 0xfb, 0xff })]
    [Arguments(new byte[] { 0xfb, 0xff, 0xbf })]
    [Arguments(new byte[] { 0xfb, 0xff, 0x00, 0x01, 0xfe, 0x3e, 0x3f })]
    public async Task Data_base64_takes_both_alphabets_with_or_without_padding(byte[] bytes)
    {
        var standard = Convert.ToBase64String(bytes);
        var urlSafe = standard.Replace('+', '-').Replace('/', '_');
        foreach (var encoded in new[] { standard, standard.TrimEnd('='), urlSafe, urlSafe.TrimEnd('=') })
        {
            foreach (var key in new[] { "data_base64", "body_base64" })
            {
                var r = Parse((key, encoded), ("data", "ignored"), ("json", "{}"));
                await Assert.That(r.DataBytes).IsEquivalentTo(bytes);
                await Assert.That(r.Data).IsNull();
                await Assert.That(r.Json).IsNull();
                await Assert.That(r.EffectiveMethod).IsEqualTo("POST");
            }
        }
    }

    [Test]
    [Arguments("QUJD===")]
    [Arguments("QU=JD")]
    [Arguments("Q")]
    [Arguments("QUJDR")]
    [Arguments("====")]
    [Arguments("QUJD\u00e9")]
    [Arguments("QU JD")]
    public async Task Undecodable_base64_is_refused(string value)
    {
        var error = await Refused(() => Parse(("data_base64", value)));
        await Assert.That(error.Message).IsEqualTo("query parameter 'data_base64' is not valid base64");
    }

    [Test]
    public async Task Body_params_upgrade_the_default_method_and_an_explicit_one_wins()
    {
        await Assert.That(Parse().EffectiveMethod).IsEqualTo("GET");
        await Assert.That(Parse(("data", "x")).EffectiveMethod).IsEqualTo("POST");
        await Assert.That(Parse(("body", "x")).Data).IsEqualTo("x");
        await Assert.That(Parse(("json", "[1]")).EffectiveMethod).IsEqualTo("POST");
        await Assert.That(Parse(("method", "put"), ("data", "x")).EffectiveMethod).IsEqualTo("PUT");
        await Assert.That(Parse(("json", "{\"a\":1}"), ("data", "x")).Json).IsEqualTo("{\"a\":1}");
    }

    [Test]
    public async Task Booleans_and_unknown_parameters()
    {
        foreach (var (text, value) in new[] { ("true", true), ("TRUE", true), ("1", true), ("yes", true), ("false", false), ("0", false), ("No", false) })
            await Assert.That(Parse(("follow_redirects", text)).FollowRedirects).IsEqualTo(value);
        var r = Parse(("proxy", "http://evil/"), ("cacert", "/etc/x"), ("utm_source", "x"), ("trace", "1"));
        await Assert.That(r).IsEqualTo(new CurlRequest { Url = Url }); // ignored: proxies append their own parameters
    }

    // ---- the raw query string (what the endpoint parses) --------------------------------------------------------

    [Test]
    public async Task The_raw_query_string_decodes_like_the_pairs()
    {
        var r = GetBridgeQuery.Parse(
            "?url=http%3A%2F%2Fexample.com%2Fx%3Fa%3D1%26b%3D2&response=transparent&method=POST&header=X-A%3A%201&header=X-B:+two+words" +
            "&timeout=5&follow_redirects=false&data=a+b%26c%3Dd&user_agent=agent%2F1.0&unknown=ignored", RequestLimits.Default);
        await Assert.That(r.Url).IsEqualTo("http://example.com/x?a=1&b=2");
        await Assert.That(r.Response).IsEqualTo(ResponseMode.Transparent);
        await Assert.That(r.Method).IsEqualTo("POST");
        await Assert.That(r.Timeout).IsEqualTo(5);
        await Assert.That(r.FollowRedirects).IsFalse();
        await Assert.That(r.Data).IsEqualTo("a b&c=d");
        await Assert.That(r.UserAgent).IsEqualTo("agent/1.0");
        await Assert.That(r.Headers!.Select(h => $"{h.Name}={h.Value}")).IsEquivalentTo(new[] { "X-A=1", "X-B=two words" });
    }

    [Test]
    public async Task The_raw_query_string_takes_the_last_repeat_and_names_case_sensitively()
    {
        var r = GetBridgeQuery.Parse("url=http://a.example/&timeout=3&URL=http://ignored.example/&url=http://b.example/&Timeout=9", RequestLimits.Default);
        await Assert.That(r.Url).IsEqualTo("http://b.example/");
        await Assert.That(r.Timeout).IsEqualTo(3);
        var pairs = GetBridgeQuery.Parse([KeyValuePair.Create("url", (string?)"http://a.example/"), KeyValuePair.Create("url", (string?)"http://b.example/")], RequestLimits.Default);
        await Assert.That(pairs.Url).IsEqualTo(r.Url);
    }

    [Test]
    public async Task The_raw_query_string_refuses_like_the_pairs()
    {
        var error = await Refused(() => GetBridgeQuery.Parse("url=http%3A%2F%2Fexample.com%2F&timeout=abc", RequestLimits.Default));
        await Assert.That(error.Message).Contains("'timeout'");
        var missing = await Refused(() => GetBridgeQuery.Parse("?response=json", RequestLimits.Default));
        await Assert.That(missing.Message).Contains("'url'");
        await Refused(() => GetBridgeQuery.Parse((string?)null, RequestLimits.Default));
        await Refused(() => GetBridgeQuery.Parse("", RequestLimits.Default));
    }

    [Test]
    public async Task Data_base64_wins_over_json_and_data_in_the_raw_query_string()
    {
        var r = GetBridgeQuery.Parse("url=http://example.com/&data=plain&json=%7B%22a%22%3A1%7D&data_base64=aGk", RequestLimits.Default);
        await Assert.That(r.DataBytes).IsEquivalentTo("hi"u8.ToArray());
        await Assert.That(r.Json).IsNull();
        await Assert.That(r.Data).IsNull();
        var json = GetBridgeQuery.Parse("url=http://example.com/&data=plain&json=%7B%22a%22%3A1%7D", RequestLimits.Default);
        await Assert.That(json.Json).IsEqualTo("{\"a\":1}");
        await Assert.That(json.Data).IsNull();
    }
}
