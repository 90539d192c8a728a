// Decisions D9: secrets never appear in logs or metrics. Requests carry a bearer token, a basic-auth
// password, a cookie, Authorization and X-Api-Key headers, a URL password and a query token through
// every door and every outcome (success, SSRF denial before the transfer and at connect, upstream
// error with a retry, timeout, validation error, async job); then not one of those values, nor the
// basic-auth base64, may be found in the sidecar's output (at debug level) or in /metrics.
using System.Text;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Security;

public class SecretHygieneTests
{
    [Test]
    public async Task Secrets_appear_in_neither_logs_nor_metrics()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var bearer = $"BEARERSECRET{id}";
        var password = $"PASSWORDSECRET{id}";
        var cookie = $"COOKIESECRET{id}";
        var authorization = $"AUTHZSECRET{id}";
        var apiKey = $"APIKEYSECRET{id}";
        var urlPassword = $"URLPWSECRET{id}";
        var queryToken = $"QUERYSECRET{id}";
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"user:{password}"));
        string[] secrets = [bearer, password, cookie, authorization, apiKey, urlPassword, queryToken, basic];

        await using var trap = ConnectionTrap.Start();
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--log-level", "debug");
        var client = sidecar.Client;
        var echo = upstream.Url($"/echo?token={queryToken}").Replace("http://", $"http://user:{urlPassword}@", StringComparison.Ordinal);
        var secretFields = $"\"bearer_token\":\"{bearer}\",\"auth_user\":\"user\",\"auth_password\":\"{password}\",\"cookie\":\"sid={cookie}\"," +
                           $"\"headers\":{{\"X-Api-Key\":\"{apiKey}\"}}";
        var authorizationHeader = $"\"headers\":{{\"Authorization\":\"Bearer {authorization}\"}}";

        // Success, json envelope: and the secrets did reach the upstream (so they were really in play).
        var (okStatus, ok) = await client.PostJsonAsync("/api/v1/curl/request", Body(echo, "\"response\":\"json\"," + secretFields));
        await Assert.That(okStatus).IsEqualTo(200).Because(ok.ToString());
        using (var seen = JsonDocument.Parse(ok.GetProperty("body").GetString()!))
        {
            var headers = seen.RootElement.GetProperty("headers");
            await Assert.That(headers.GetProperty("cookie").GetString()).IsEqualTo($"sid={cookie}");
            await Assert.That(headers.GetProperty("x-api-key").GetString()).IsEqualTo(apiKey);
            await Assert.That(headers.GetProperty("authorization").GetString()!).Contains(bearer);
        }
        var (authStatus, _) = await client.PostJsonAsync("/api/v1/curl/request", Body(echo, "\"response\":\"json\"," + authorizationHeader));
        await Assert.That(authStatus).IsEqualTo(200);
        using (var transparent = await client.PostAsync("/api/v1/curl/request", Api.Json(Body(echo, secretFields))))
            await Assert.That((int)transparent.StatusCode).IsEqualTo(200);

        // The GET bridge: bearer_token, header=Authorization and headers={"Cookie": ...}.
        var bridge = $"/api/v1/curl/request?url={Api.Q(echo)}&bearer_token={bearer}" +
                     $"&header={Api.Q($"Authorization: Bearer {authorization}")}&headers={Api.Q($"{{\"Cookie\":\"sid={cookie}\",\"X-Api-Key\":\"{apiKey}\"}}")}";
        var (bridgeStatus, _) = await client.GetJsonAsync(bridge);
        await Assert.That(bridgeStatus).IsEqualTo(200);

        // Refusals and failures log too: none of them may log what the request carried.
        var denied = $"http://user:{urlPassword}@10.0.0.1/?token={queryToken}";
        var (deniedStatus, _) = await client.PostJsonAsync("/api/v1/curl/request", Body(denied, secretFields));
        await Assert.That(deniedStatus).IsEqualTo(403);
        var redirect = upstream.Url($"/redirect-to?url={Api.Q($"http://127.0.0.2:{trap.Port}/?token={queryToken}")}&status_code=307&token={queryToken}");
        var (connectStatus, _) = await client.PostJsonAsync("/api/v1/curl/request", Body(redirect, secretFields));
        await Assert.That(connectStatus).IsEqualTo(403);
        var closed = $"http://user:{urlPassword}@127.0.0.1:{Sidecar.FreePort()}/?token={queryToken}";
        var (refusedStatus, _) = await client.PostJsonAsync("/api/v1/curl/request", Body(closed, secretFields + ",\"retry_count\":1,\"retry_delay\":0"));
        await Assert.That(refusedStatus).IsEqualTo(502);
        var slow = upstream.Url($"/delay/3000?token={queryToken}");
        var (timeoutStatus, _) = await client.PostJsonAsync("/api/v1/curl/request", Body(slow, secretFields + ",\"timeout\":1"));
        await Assert.That(timeoutStatus).IsEqualTo(504);
        var (invalidStatus, _) = await client.PostJsonAsync("/api/v1/curl/request", Body(echo, secretFields.Replace("X-Api-Key", "X Api Key", StringComparison.Ordinal)));
        await Assert.That(invalidStatus).IsEqualTo(400);

        // An async job, when the jobs module is built in, until it has finished.
        var (asyncStatus, accepted) = await client.PostJsonAsync("/api/v1/curl/request", Body(echo, "\"mode\":\"async\"," + secretFields));
        if (asyncStatus == 202)
        {
            var jobId = accepted.GetProperty("job_id").GetString()!;
            await client.GetJsonAsync($"/api/v1/curl/jobs/{jobId}?wait=done&timeout_ms=10000");
        }

        var metrics = await client.GetStringAsync("/metrics");
        await sidecar.StopAsync(); // the whole log, flushed: the process has exited and its output is drained
        var output = sidecar.Output;
        await Assert.That(output).Contains("decision=denied");
        foreach (var secret in secrets)
        {
            await Assert.That(output).DoesNotContain(secret);
            await Assert.That(metrics).DoesNotContain(secret);
        }
        await Assert.That(trap.Accepted).IsEmpty();
    }

    private static string Body(string url, string fields) =>
        $"{{\"url\":{SsrfEnvironment.Json(url)},{fields}}}";
}
