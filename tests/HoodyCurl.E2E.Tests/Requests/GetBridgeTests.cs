using System.Net;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Requests;

[ClassDataSource<SharedEnvironment>(Shared = SharedType.PerTestSession)]
public class GetBridgeTests(SharedEnvironment env)
{
    [Test]
    public async Task Json_envelope_has_the_sdk_field_set()
    {
        using var response = await env.Client.GetAsync(env.Bridge("/echo?x=1"));
        var body = await Api.ReadJsonAsync(response);
        await Assert.That((int)response.StatusCode).IsEqualTo(200);
        await Assert.That(response.Headers.Contains("X-Request-Id")).IsTrue();
        await Assert.That(body.GetProperty("success").GetBoolean()).IsTrue();
        // decisions D10: the sync request's id is the envelope's job_id and the X-Request-Id header.
        await Assert.That(body.GetProperty("job_id").GetString()).IsEqualTo(response.Headers.GetValues("X-Request-Id").Single());
        await Assert.That(body.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(body.GetProperty("is_binary").GetBoolean()).IsFalse();
        await Assert.That(body.GetProperty("headers").GetProperty("content-type").GetString()!).Contains("application/json");
        await Assert.That(body.GetProperty("raw_headers").GetArrayLength()).IsGreaterThan(0);
        foreach (var field in new[] { "total", "namelookup", "connect", "pretransfer", "starttransfer", "redirect" })
            await Assert.That(body.GetProperty("timing").GetProperty(field).ValueKind).IsEqualTo(JsonValueKind.Number);
        var metadata = body.GetProperty("metadata");
        foreach (var field in new[] { "redirect_count", "size_download", "size_upload", "speed_download", "speed_upload" })
            await Assert.That(metadata.GetProperty(field).ValueKind).IsEqualTo(JsonValueKind.Number);
        await Assert.That(metadata.GetProperty("effective_url").GetString()).IsEqualTo(env.Upstream.Url("/echo?x=1"));
        await Assert.That(metadata.GetProperty("content_type").GetString()!).Contains("application/json");
        using var echo = JsonDocument.Parse(body.GetProperty("body").GetString()!);
        await Assert.That(echo.RootElement.GetProperty("method").GetString()).IsEqualTo("GET");
        await Assert.That(echo.RootElement.GetProperty("query").GetProperty("x").GetString()).IsEqualTo("1");
    }

    [Test]
    public async Task Upstream_error_status_is_not_a_failure_of_the_endpoint()
    {
        var (status, body) = await env.Client.GetJsonAsync(env.Bridge("/status/503"));
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(body.GetProperty("status_code").GetInt32()).IsEqualTo(503);
        await Assert.That(body.GetProperty("success").GetBoolean()).IsFalse();
    }

    [Test]
    public async Task Binary_body_is_base64_with_is_binary()
    {
        var (_, body) = await env.Client.GetJsonAsync(env.Bridge("/bytes/1000?seed=7"));
        await Assert.That(body.GetProperty("is_binary").GetBoolean()).IsTrue();
        var bytes = Convert.FromBase64String(body.GetProperty("body").GetString()!);
        await Assert.That(bytes.SequenceEqual(HoodyCurl.TestUpstream.Payload.Create(1000, 7))).IsTrue();
    }

    [Test]
    public async Task Data_upgrades_to_post_and_body_is_an_alias()
    {
        foreach (var name in new[] { "data", "body" })
        {
            var (_, body) = await env.Client.GetJsonAsync(env.Bridge("/echo", $"&{name}={Api.Q("a=1&b=2")}"));
            using var echo = JsonDocument.Parse(body.GetProperty("body").GetString()!);
            await Assert.That(echo.RootElement.GetProperty("method").GetString()).IsEqualTo("POST");
            await Assert.That(echo.RootElement.GetProperty("body").GetString()).IsEqualTo("a=1&b=2");
        }
    }

    [Test]
    public async Task Explicit_method_wins_over_body_upgrade()
    {
        var (_, body) = await env.Client.GetJsonAsync(env.Bridge("/echo", "&method=put&data=x"));
        using var echo = JsonDocument.Parse(body.GetProperty("body").GetString()!);
        await Assert.That(echo.RootElement.GetProperty("method").GetString()).IsEqualTo("PUT");
    }

    [Test]
    public async Task Json_param_is_sent_as_application_json()
    {
        var (_, body) = await env.Client.GetJsonAsync(env.Bridge("/echo", $"&json={Api.Q("{\"a\":[1,2]}")}"));
        using var echo = JsonDocument.Parse(body.GetProperty("body").GetString()!);
        await Assert.That(echo.RootElement.GetProperty("headers").GetProperty("content-type").GetString()).IsEqualTo("application/json");
        await Assert.That(echo.RootElement.GetProperty("json").GetProperty("a")[1].GetInt32()).IsEqualTo(2);
        await Assert.That(echo.RootElement.GetProperty("method").GetString()).IsEqualTo("POST");
    }

    [Test]
    [Arguments("data_base64")]
    [Arguments("body_base64")]
    public async Task Data_base64_accepts_both_alphabets_and_wins(string name)
    {
        var payload = new byte[] { 0xfb, 0xff, 0x00, 0x01, 0xfe };
        foreach (var encoded in new[] { Convert.ToBase64String(payload), Convert.ToBase64String(payload).Replace('+', '-').Replace('/', '_').TrimEnd('=') })
        {
            var (_, body) = await env.Client.GetJsonAsync(env.Bridge("/echo", $"&{name}={Api.Q(encoded)}&data=ignored"));
            using var echo = JsonDocument.Parse(body.GetProperty("body").GetString()!);
            await Assert.That(echo.RootElement.GetProperty("body_base64").GetString()).IsEqualTo(Convert.ToBase64String(payload));
        }
    }

    [Test]
    public async Task Repeated_and_comma_joined_header_params_and_headers_json_merge()
    {
        var query = "&header=" + Api.Q("X-One: 1") +
                    "&header=" + Api.Q("X-Two: 2,X-Three: 3") +
                    "&header=" + Api.Q("Accept: text/html, application/json") +
                    "&headers=" + Api.Q("{\"X-Four\":\"4\",\"X-One\":\"loses\"}");
        var (status, body) = await env.Client.GetJsonAsync(env.Bridge("/echo", query));
        await Assert.That(status).IsEqualTo(200);
        using var echo = JsonDocument.Parse(body.GetProperty("body").GetString()!);
        var headers = echo.RootElement.GetProperty("headers");
        await Assert.That(headers.GetProperty("x-one").GetString()).IsEqualTo("1");
        await Assert.That(headers.GetProperty("x-two").GetString()).IsEqualTo("2");
        await Assert.That(headers.GetProperty("x-three").GetString()).IsEqualTo("3");
        await Assert.That(headers.GetProperty("x-four").GetString()).IsEqualTo("4");
        await Assert.That(headers.GetProperty("accept").GetString()).IsEqualTo("text/html, application/json");
    }

    [Test]
    public async Task Bridge_fields_user_agent_referer_bearer_and_follow_redirects()
    {
        var (_, body) = await env.Client.GetJsonAsync(env.Bridge("/echo", "&user_agent=ua-test%2F1&referer=" + Api.Q("http://ref.example/") + "&bearer_token=tok123"));
        using var echo = JsonDocument.Parse(body.GetProperty("body").GetString()!);
        var headers = echo.RootElement.GetProperty("headers");
        await Assert.That(headers.GetProperty("user-agent").GetString()).IsEqualTo("ua-test/1");
        await Assert.That(headers.GetProperty("referer").GetString()).IsEqualTo("http://ref.example/");
        await Assert.That(headers.GetProperty("authorization").GetString()).IsEqualTo("Bearer tok123");

        var (_, noFollow) = await env.Client.GetJsonAsync(env.Bridge("/redirect/2", "&follow_redirects=false"));
        await Assert.That(noFollow.GetProperty("status_code").GetInt32()).IsEqualTo(302);
        var (_, follow) = await env.Client.GetJsonAsync(env.Bridge("/redirect/2"));
        await Assert.That(follow.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(follow.GetProperty("metadata").GetProperty("redirect_count").GetInt32()).IsEqualTo(2);
    }

    [Test]
    public async Task Bridge_timeout_and_transparent_response()
    {
        var (status, body) = await env.Client.GetJsonAsync(env.Bridge("/delay/3000", "&timeout=1"));
        await Assert.That(status).IsEqualTo(504);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("UPSTREAM_TIMEOUT");

        using var transparent = await env.Client.GetAsync(env.Bridge("/status/418", "&response=transparent"));
        await Assert.That((int)transparent.StatusCode).IsEqualTo(418);
    }

    [Test]
    [Arguments("&header=" + "X-Bad%0D%0AInjected:%201", "CR, LF or NUL")]
    [Arguments("&header=NoColonHere", "Name: Value")]
    [Arguments("&json=%7Bnot-json", "not valid JSON")]
    [Arguments("&data_base64=%21%21%21", "not valid base64")]
    [Arguments("&follow_redirects=maybe", "true or false")]
    [Arguments("&response=xml", "transparent or json")]
    [Arguments("&mode=later", "sync or async")]
    [Arguments("&timeout=abc", "positive integer")]
    [Arguments("&save_path=..%2Fx", "save_path")]
    public async Task Bad_bridge_input_is_a_400_in_the_error_shape(string extra, string fragment)
    {
        var (status, body) = await env.Client.GetJsonAsync(env.Bridge("/echo", extra));
        await Assert.That(status).IsEqualTo(400);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("VALIDATION_ERROR");
        await Assert.That(body.GetProperty("code").GetString()).IsEqualTo("VALIDATION_ERROR");
        await Assert.That(body.GetProperty("message").GetString()!).Contains(fragment);
    }

    [Test]
    public async Task Missing_url_is_400_and_curl_alias_works()
    {
        var (status, _) = await env.Client.GetJsonAsync("/api/v1/curl/request");
        await Assert.That(status).IsEqualTo(400);
        var (aliasStatus, body) = await env.Client.GetJsonAsync($"/curl?url={Api.Q(env.Upstream.Url("/status/201"))}");
        await Assert.That(aliasStatus).IsEqualTo(200);
        await Assert.That(body.GetProperty("status_code").GetInt32()).IsEqualTo(201);
    }

    [Test]
    public async Task Connection_refused_is_502_with_libcurls_text()
    {
        var closed = Sidecar.FreePort();
        var (status, body) = await env.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q($"http://127.0.0.1:{closed}/")}");
        await Assert.That(status).IsEqualTo(502);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("UPSTREAM_ERROR");
        await Assert.That(body.GetProperty("message").GetString()!).Contains("onnect");
    }

    [Test]
    public async Task Unknown_route_is_404_in_the_error_shape()
    {
        using var response = await env.Client.GetAsync("/api/v1/curl/nothing-here");
        var body = await Api.ReadJsonAsync(response);
        await Assert.That(response.StatusCode).IsEqualTo(HttpStatusCode.NotFound);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("NOT_FOUND");
    }
}
