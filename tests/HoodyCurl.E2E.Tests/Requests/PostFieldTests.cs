// Every engine field of CurlRequest (rest.md §2) through POST /api/v1/curl/request against the real
// test upstream, executed by the published binary.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Requests;

[ClassDataSource<SharedEnvironment>(Shared = SharedType.PerTestSession)]
public class PostFieldTests(SharedEnvironment env)
{
    private async Task<JsonElement> Envelope(string fields, string path = "/echo")
    {
        var json = $"{{\"url\":{JsonSerializer.Serialize(env.Upstream.Url(path), JsonContext.Default.String)},\"response\":\"json\"{(fields.Length > 0 ? "," + fields : "")}}}";
        var (status, body) = await env.Client.PostJsonAsync("/api/v1/curl/request", json);
        if (status != 200) throw new InvalidOperationException($"status {status}: {body}");
        return body;
    }

    private async Task<JsonElement> Echo(string fields, string path = "/echo")
    {
        var envelope = await Envelope(fields, path);
        using var document = JsonDocument.Parse(envelope.GetProperty("body").GetString()!);
        return document.RootElement.Clone();
    }

    [Test]
    public async Task Default_post_mode_is_transparent()
    {
        using var response = await env.Client.PostAsync("/api/v1/curl/request", Api.Json($"{{\"url\":\"{env.Upstream.Url("/status/418")}\"}}"));
        await Assert.That((int)response.StatusCode).IsEqualTo(418);
        await Assert.That(await response.Content.ReadAsStringAsync()).IsEqualTo("status 418");
    }

    [Test]
    public async Task Method_defaults_to_get_and_body_implies_post()
    {
        await Assert.That((await Echo("")).GetProperty("method").GetString()).IsEqualTo("GET");
        await Assert.That((await Echo("\"data\":\"x\"")).GetProperty("method").GetString()).IsEqualTo("POST");
        await Assert.That((await Echo("\"method\":\"delete\"")).GetProperty("method").GetString()).IsEqualTo("DELETE");
        await Assert.That((await Echo("\"method\":\"PATCH\",\"data\":\"y\"")).GetProperty("body").GetString()).IsEqualTo("y");
    }

    [Test]
    public async Task Head_returns_no_body()
    {
        var envelope = await Envelope("\"method\":\"HEAD\"", "/bytes/100");
        await Assert.That(envelope.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(envelope.GetProperty("body").GetString()).IsEqualTo("");
    }

    [Test]
    public async Task Headers_user_agent_referer_cookie()
    {
        var echo = await Echo("\"headers\":{\"X-A\":\"1\",\"X-Empty\":\"\"},\"user_agent\":\"ua/2\",\"referer\":\"http://r/\",\"cookie\":\"a=1; b=2\"");
        var h = echo.GetProperty("headers");
        await Assert.That(h.GetProperty("x-a").GetString()).IsEqualTo("1");
        await Assert.That(h.GetProperty("x-empty").GetString()).IsEqualTo("");
        await Assert.That(h.GetProperty("user-agent").GetString()).IsEqualTo("ua/2");
        await Assert.That(h.GetProperty("referer").GetString()).IsEqualTo("http://r/");
        await Assert.That(h.GetProperty("cookie").GetString()).IsEqualTo("a=1; b=2");
    }

    [Test]
    public async Task Default_user_agent_is_hoody_curl()
    {
        var echo = await Echo("");
        await Assert.That(echo.GetProperty("headers").GetProperty("user-agent").GetString()!).StartsWith("hoody-curl/");
    }

    [Test]
    public async Task Basic_digest_and_bearer_auth()
    {
        var basic = await Envelope("\"auth_user\":\"u\",\"auth_password\":\"p\"", "/basic-auth/u/p");
        await Assert.That(basic.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        var wrong = await Envelope("\"auth_user\":\"u\",\"auth_password\":\"bad\"", "/basic-auth/u/p");
        await Assert.That(wrong.GetProperty("status_code").GetInt32()).IsEqualTo(401);
        var digest = await Envelope("\"auth_user\":\"u\",\"auth_password\":\"p\",\"auth_method\":\"digest\"", "/digest-auth/auth/u/p");
        await Assert.That(digest.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        var digestAsBasic = await Envelope("\"auth_user\":\"u\",\"auth_password\":\"p\",\"auth_method\":\"basic\"", "/digest-auth/auth/u/p");
        await Assert.That(digestAsBasic.GetProperty("status_code").GetInt32()).IsEqualTo(401);
        var bearer = await Envelope("\"bearer_token\":\"t0k\"", "/bearer");
        await Assert.That(bearer.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(bearer.GetProperty("body").GetString()!).Contains("t0k");
    }

    [Test]
    [Arguments("ntlm")]
    [Arguments("negotiate")]
    public async Task Ntlm_and_negotiate_are_accepted_methods(string method)
    {
        // The test upstream speaks no NTLM/SPNEGO: the request runs and the upstream's 401 comes back.
        var envelope = await Envelope($"\"auth_user\":\"u\",\"auth_password\":\"p\",\"auth_method\":\"{method}\"", "/basic-auth/u/p");
        await Assert.That(envelope.GetProperty("status_code").GetInt32()).IsEqualTo(401);
    }

    [Test]
    public async Task Json_any_value_and_form_multipart()
    {
        var json = await Echo("\"json\":[1,\"two\",{\"three\":3}]");
        await Assert.That(json.GetProperty("headers").GetProperty("content-type").GetString()).IsEqualTo("application/json");
        await Assert.That(json.GetProperty("json")[2].GetProperty("three").GetInt32()).IsEqualTo(3);
        var scalar = await Echo("\"json\":42");
        await Assert.That(scalar.GetProperty("body").GetString()).IsEqualTo("42");
        var form = await Echo("\"form\":{\"name\":\"hoody\",\"lang\":\"c#\"}");
        await Assert.That(form.GetProperty("method").GetString()).IsEqualTo("POST");
        await Assert.That(form.GetProperty("headers").GetProperty("content-type").GetString()!).StartsWith("multipart/form-data");
        await Assert.That(form.GetProperty("form").GetProperty("lang").GetString()).IsEqualTo("c#");
    }

    [Test]
    public async Task Timeout_connect_timeout_and_redirect_limits()
    {
        var (status, body) = await env.Client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{env.Upstream.Url("/delay/3000")}\",\"timeout\":1,\"connect_timeout\":1}}");
        await Assert.That(status).IsEqualTo(504);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("UPSTREAM_TIMEOUT");
        var (tooMany, tooManyBody) = await env.Client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{env.Upstream.Url("/redirect/5")}\",\"max_redirects\":2}}");
        await Assert.That(tooMany).IsEqualTo(502);
        await Assert.That(tooManyBody.GetProperty("message").GetString()!).Contains("redirect");
        var manual = await Envelope("\"follow_redirects\":false,\"max_redirects\":0", "/redirect/1");
        await Assert.That(manual.GetProperty("status_code").GetInt32()).IsEqualTo(302);
        await Assert.That(manual.GetProperty("headers").GetProperty("location").GetString()!).Contains("/redirect/0");
    }

    [Test]
    public async Task Max_filesize_refuses_larger_bodies()
    {
        var (status, body) = await env.Client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{env.Upstream.Url("/stream-bytes/200000")}\",\"max_filesize\":1000}}");
        await Assert.That(status).IsEqualTo(502);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("RESPONSE_TOO_LARGE");
        var ok = await Envelope("\"max_filesize\":1000", "/bytes/1000");
        await Assert.That(ok.GetProperty("metadata").GetProperty("size_download").GetInt64()).IsEqualTo(1000);
    }

    [Test]
    public async Task Compressed_decodes_and_plain_keeps_encoded_bytes()
    {
        var decoded = await Envelope("\"compressed\":true", "/gzip");
        await Assert.That(decoded.GetProperty("is_binary").GetBoolean()).IsFalse();
        await Assert.That(decoded.GetProperty("body").GetString()!).Contains("gzipped");
        var raw = await Envelope("\"compressed\":false", "/gzip");
        await Assert.That(raw.GetProperty("is_binary").GetBoolean()).IsTrue();
        await Assert.That(raw.GetProperty("headers").GetProperty("content-encoding").GetString()).IsEqualTo("gzip");

        using var transparent = await env.Client.PostAsync("/api/v1/curl/request", Api.Json($"{{\"url\":\"{env.Upstream.Url("/gzip")}\",\"compressed\":true}}"));
        await Assert.That(transparent.Content.Headers.ContentEncoding.Count).IsEqualTo(0);
        await Assert.That(await transparent.Content.ReadAsStringAsync()).Contains("gzipped");
    }

    [Test]
    public async Task Range_asks_for_part_of_the_body()
    {
        var envelope = await Envelope("\"range\":\"10-19\"", "/bytes/100?seed=3");
        await Assert.That(envelope.GetProperty("status_code").GetInt32()).IsEqualTo(206);
        var bytes = Convert.FromBase64String(envelope.GetProperty("body").GetString()!);
        await Assert.That(bytes.SequenceEqual(HoodyCurl.TestUpstream.Payload.Create(100, 3).Skip(10).Take(10))).IsTrue();
    }

    [Test]
    public async Task Socket_options_insecure_cert_type_and_schedule_are_accepted()
    {
        var envelope = await Envelope("\"tcp_nodelay\":true,\"keepalive\":true,\"keepalive_time\":30,\"insecure\":true,\"cert_type\":\"PEM\",\"schedule\":\"0 * * * * *\",\"speed_limit\":1,\"speed_time\":10,\"retry_count\":0,\"retry_delay\":1");
        await Assert.That(envelope.GetProperty("status_code").GetInt32()).IsEqualTo(200);
    }

    [Test]
    public async Task Speed_limit_aborts_a_too_slow_transfer()
    {
        var (status, body) = await env.Client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{env.Upstream.Url("/slow/100?chunk=1&interval_ms=500")}\",\"response\":\"json\",\"speed_limit\":1000,\"speed_time\":1}}");
        await Assert.That(status).IsEqualTo(504);
        await Assert.That(body.GetProperty("message").GetString()!).Contains("too slow");
    }

    [Test]
    public async Task Retries_happen_on_network_errors_before_the_first_byte()
    {
        await using var flaky = HoodyCurl.TestUpstream.FlakyServer.Start(2);
        var (status, body) = await env.Client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{flaky.BaseUrl}/\",\"response\":\"json\",\"retry_count\":3,\"retry_delay\":0}}");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(body.GetProperty("body").GetString()!).Contains("ok after 2 drops");
        await Assert.That(body.GetProperty("metadata").GetProperty("attempts").GetInt32()).IsEqualTo(3);

        await using var flaky2 = HoodyCurl.TestUpstream.FlakyServer.Start(5);
        var (failed, _) = await env.Client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":\"{flaky2.BaseUrl}/\",\"retry_count\":1,\"retry_delay\":0}}");
        await Assert.That(failed).IsEqualTo(502);
        await Assert.That(flaky2.Accepted).IsEqualTo(2);
    }

    [Test]
    public async Task Transparent_mode_relays_status_and_headers_without_hop_by_hop()
    {
        using var response = await env.Client.PostAsync("/api/v1/curl/request",
            Api.Json($"{{\"url\":\"{env.Upstream.Url("/response-headers?X-Custom=yes&X-Custom=again&Keep-Alive=timeout%3D5")}\"}}"));
        await Assert.That((int)response.StatusCode).IsEqualTo(200);
        await Assert.That(string.Join(",", response.Headers.GetValues("X-Custom"))).IsEqualTo("yes,again");
        await Assert.That(response.Headers.Contains("Keep-Alive")).IsFalse();
        await Assert.That(response.Headers.Contains("X-Request-Id")).IsTrue();
    }

    [Test]
    public async Task Json_envelope_joins_repeated_headers_and_keeps_set_cookie_in_raw_headers()
    {
        var envelope = await Envelope("", "/response-headers?X-Rep=a&X-Rep=b&Set-Cookie=c1%3D1&Set-Cookie=c2%3D2");
        await Assert.That(envelope.GetProperty("headers").GetProperty("x-rep").GetString()).IsEqualTo("a, b");
        await Assert.That(envelope.GetProperty("headers").TryGetProperty("set-cookie", out _)).IsFalse();
        var cookies = envelope.GetProperty("raw_headers").EnumerateArray().Where(h => h.GetProperty("name").GetString() == "Set-Cookie").ToList();
        await Assert.That(cookies.Count).IsEqualTo(2);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class JsonContext : System.Text.Json.Serialization.JsonSerializerContext;

public class TlsTests
{
    [Test]
    public async Task Insecure_skips_verification_of_a_self_signed_upstream()
    {
        await using var upstream = await HoodyCurl.TestUpstream.TestUpstreamServer.StartHttpsAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var (verified, error) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":\"{upstream.Url("/status/200")}\"}}");
        await Assert.That(verified).IsEqualTo(502);
        await Assert.That(error.GetProperty("message").GetString()!).Contains("certificate");
        var (status, body) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{upstream.Url("/echo")}\",\"insecure\":true,\"response\":\"json\"}}");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(body.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(body.GetProperty("metadata").GetProperty("effective_url").GetString()!).StartsWith("https://");
    }
}
