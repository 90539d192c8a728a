// Issue 16 item 1: a caller's own framing header (Content-Length: 0 over a body) made the upstream read
// the body as a second request on a pooled connection, and from then on every answer on that connection
// went to the wrong caller. Callers can no longer set framing or connection headers on any door, nor
// put control characters in anything that becomes a header; the upstream never sees the smuggled
// request and no caller ever gets another caller's answer.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Hardening;

[ClassDataSource<SharedEnvironment>(Shared = SharedType.PerTestSession)]
public class SmugglingTests(SharedEnvironment env)
{
    private const string RequestPath = "/api/v1/curl/request";
    private const string Smuggled = "GET /smuggled HTTP/1.1\r\nHost: upstream\r\n\r\n";

    private static string J(string text) => "\"" + JsonEncodedText.Encode(text).ToString() + "\"";

    [Test]
    [Arguments("Content-Length", "0")]
    [Arguments("content-length", "0")]
    [Arguments("Transfer-Encoding", "chunked")]
    [Arguments("Connection", "keep-alive")]
    [Arguments("Keep-Alive", "timeout=5")]
    [Arguments("Upgrade", "websocket")]
    [Arguments("TE", "trailers")]
    [Arguments("Trailer", "X-A")]
    [Arguments("Proxy-Authorization", "Basic eDp5")]
    [Arguments("Proxy-Connection", "keep-alive")]
    [Arguments("Expect", "100-continue")]
    public async Task A_framing_or_connection_header_is_refused_on_every_door(string name, string value)
    {
        await using var upstream = RawUpstream.StartEcho();
        var url = upstream.Url("/x");
        var headers = $"{{{J(name)}:{J(value)}}}";
        var data = J(Smuggled);

        var doors = new List<(string Door, int Status, JsonElement Body)>();
        var (s1, b1) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"headers\":{headers},\"data\":{data}}}");
        doors.Add(("POST", s1, b1));
        var (s2, b2) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"mode\":\"async\",\"headers\":{headers},\"data\":{data}}}");
        doors.Add(("POST async", s2, b2));
        var (s3, b3) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}&header={Api.Q($"{name}: {value}")}&data={Api.Q(Smuggled)}");
        doors.Add(("GET header=", s3, b3));
        var (s4, b4) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}&headers={Api.Q(headers)}&data={Api.Q(Smuggled)}");
        doors.Add(("GET headers=", s4, b4));
        var (s5, b5) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}&header={Api.Q($"X-A: 1, {name}: {value}")}&data={Api.Q(Smuggled)}");
        doors.Add(("GET joined header=", s5, b5));
        var (s6, b6) = await env.Client.PostJsonAsync("/api/v1/curl/schedule",
            $"{{\"cron\":\"* * * * * *\",\"request\":{{\"url\":\"{url}\",\"headers\":{headers},\"data\":{data}}}}}");
        doors.Add(("schedule", s6, b6));

        foreach (var (door, status, body) in doors)
        {
            await Assert.That(status).IsEqualTo(400).Because($"{door}: {body}");
            await Assert.That(body.GetProperty("code").GetString()).IsEqualTo("VALIDATION_ERROR");
            await Assert.That(body.GetProperty("message").GetString()!).Contains($"'{name}'").Because(door);
        }
        await Assert.That(upstream.Requests.Count).IsEqualTo(0);
    }

    [Test]
    [Arguments("user_agent", "agent\u0001x")]
    [Arguments("referer", "http://a/\u001b[31m")]
    [Arguments("cookie", "a=b\u007f")]
    [Arguments("bearer_token", "tok\u0008en")]
    [Arguments("auth_user", "us\u000Ber")]
    public async Task A_control_character_in_a_header_field_is_refused(string field, string value)
    {
        await using var upstream = RawUpstream.StartEcho();
        var url = upstream.Url("/x");
        var (status, body) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",{J(field)}:{J(value)}}}");
        await Assert.That(status).IsEqualTo(400).Because(body.ToString());
        await Assert.That(body.GetProperty("message").GetString()!).Contains($"'{field}'");
        var (headerStatus, headerBody) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"headers\":{{\"X-A\":{J(value)}}}}}");
        await Assert.That(headerStatus).IsEqualTo(400).Because(headerBody.ToString());
        if (field is "user_agent" or "referer" or "bearer_token")
        {
            var (bridgeStatus, bridgeBody) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}&{field}={Api.Q(value)}");
            await Assert.That(bridgeStatus).IsEqualTo(400).Because(bridgeBody.ToString());
        }
        // A tab is the one control character a header value may hold.
        var (tabStatus, tabBody) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"response\":\"json\",\"user_agent\":\"a\\tb\"}}");
        await Assert.That(tabStatus).IsEqualTo(200).Because(tabBody.ToString());
        await Assert.That(upstream.Requests.Count).IsEqualTo(1);
    }

    [Test]
    public async Task The_response_theft_attack_is_refused_and_no_caller_gets_another_callers_answer()
    {
        await using var upstream = RawUpstream.StartEcho();
        // The attack of the report: Content-Length: 0 with a whole second request as the body.
        var (attackStatus, attackBody) = await env.Client.GetJsonAsync(
            $"{RequestPath}?url={Api.Q(upstream.Url("/attacker"))}&header={Api.Q("Content-Length: 0")}&data={Api.Q(Smuggled)}");
        await Assert.That(attackStatus).IsEqualTo(400).Because(attackBody.ToString());

        // Then victims with bearer tokens and the attacker's plain requests, interleaved on the same pooled
        // connections: every answer must be the caller's own.
        var tasks = new List<Task<(string Who, int Round, string Body)>>();
        for (var round = 0; round < 12; round++)
        {
            var r = round;
            tasks.Add(Call("victim", r, $"{{\"url\":\"{upstream.Url($"/victim/{r}")}\",\"response\":\"json\",\"bearer_token\":\"victim-secret-{r}\"}}"));
            tasks.Add(Call("attacker", r, $"{{\"url\":\"{upstream.Url($"/attacker/{r}")}\",\"response\":\"json\",\"method\":\"POST\",\"data\":{J(Smuggled)}}}"));
        }
        foreach (var (who, round, body) in await Task.WhenAll(tasks))
        {
            await Assert.That(body).StartsWith($"target=/{who}/{round}\n").Because(body);
            if (who == "attacker") await Assert.That(body).DoesNotContain("victim-secret");
            else await Assert.That(body).Contains($"authorization=Bearer victim-secret-{round}\n");
        }
        await Assert.That(upstream.Requests.Any(r => r.Target == "/smuggled")).IsFalse();
        await Assert.That(upstream.Requests.Count).IsEqualTo(24);

        async Task<(string, int, string)> Call(string who, int round, string json)
        {
            var (status, body) = await env.Client.PostJsonAsync(RequestPath, json);
            if (status != 200) throw new InvalidOperationException($"{who} {round}: {status} {body}");
            return (who, round, body.GetProperty("body").GetString()!);
        }
    }
}
