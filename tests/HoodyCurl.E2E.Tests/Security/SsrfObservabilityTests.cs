// Every SSRF denial is visible to the operator: hoody_curl_ssrf_denied_total{reason} counts it by rule,
// and a log line names the rule and the request id — for denials before the transfer (the URL pre-check)
// and at connect time (a redirect), including a redirect to a scheme other than http/https.
using System.Text.RegularExpressions;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Security;

public class SsrfObservabilityTests
{
    [Test]
    public async Task Denials_are_counted_by_rule_in_metrics()
    {
        await using var trap = ConnectionTrap.Start();
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;

        await client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q("http://10.0.0.1/")}");                        // pre-check
        await client.PostJsonAsync("/api/v1/curl/request", "{\"url\":\"http://169.254.169.254/latest/meta-data/\"}"); // pre-check
        await client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q("file:///etc/passwd")}");                      // pre-check
        var toLoopback = upstream.Url($"/redirect-to?url={Api.Q($"http://127.0.0.2:{trap.Port}/")}&status_code=302");
        await client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(toLoopback)}");                               // at connect
        var toGopher = upstream.Url($"/redirect-to?url={Api.Q($"gopher://127.0.0.2:{trap.Port}/_x")}&status_code=307");
        var (gopherStatus, _) = await client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":{SsrfEnvironment.Json(toGopher)}}}"); // redirect scheme
        await Assert.That(gopherStatus).IsEqualTo(403);

        var metrics = await client.GetStringAsync("/metrics");
        await Assert.That(Counter(metrics, "private")).IsEqualTo(1);
        await Assert.That(Counter(metrics, "metadata")).IsEqualTo(1);
        await Assert.That(Counter(metrics, "loopback")).IsEqualTo(1);
        await Assert.That(Counter(metrics, "scheme")).IsEqualTo(2);
        await Assert.That(metrics).Contains("hoody_curl_requests_total{door=\"bridge\",outcome=\"ssrf_denied\"} 3");
        await Assert.That(metrics).Contains("hoody_curl_requests_total{door=\"rest\",outcome=\"ssrf_denied\"} 2");
        await Assert.That(trap.Accepted).IsEmpty();
    }

    [Test]
    [Arguments("http://10.0.0.1/", "private", "10.0.0.1")]
    [Arguments("http://[::ffff:127.0.0.2]/", "loopback", "::ffff:127.0.0.2")]
    [Arguments("gopher://127.0.0.2/", "scheme", "")]
    public async Task Pre_check_denial_is_logged_naming_the_rule(string url, string rule, string address)
    {
        await using var sidecar = await Sidecar.StartAsync();
        using var response = await sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(url)}");
        await Assert.That((int)response.StatusCode).IsEqualTo(403);
        var line = await DenialLine(sidecar, response);
        await Assert.That(line).Contains($"rule={rule}");
        if (address.Length > 0) await Assert.That(line).Contains($"address={address}");
    }

    [Test]
    [Arguments("http://127.0.0.2:{trap}/", "loopback", "127.0.0.2")]
    [Arguments("http://name.test:{trap}/", "loopback", "127.0.0.2")]
    [Arguments("dict://127.0.0.2:{trap}/info", "scheme", "")]
    public async Task Connect_time_denial_is_logged_naming_the_rule(string target, string rule, string address)
    {
        await using var trap = ConnectionTrap.Start();
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(SsrfEnvironment.ResolveFlags(trap.Port));
        var first = upstream.Url($"/redirect-to?url={Api.Q(target.Replace("{trap}", trap.Port.ToString(), StringComparison.Ordinal))}&status_code=301");
        using var response = await sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(first)}");
        await Assert.That((int)response.StatusCode).IsEqualTo(403);
        var line = await DenialLine(sidecar, response);
        await Assert.That(line).Contains($"rule={rule}");
        if (address.Length > 0) await Assert.That(line).Contains($"address={address}");
        await Assert.That(trap.Accepted).IsEmpty();
    }

    /// <summary>The sidecar's "denied by the SSRF guard" log line for the response's X-Request-Id.</summary>
    private static async Task<string> DenialLine(Sidecar sidecar, HttpResponseMessage response)
    {
        var requestId = response.Headers.GetValues("X-Request-Id").Single();
        var deadline = DateTime.UtcNow.AddSeconds(15); // the console logger writes on its own thread
        while (true)
        {
            var line = sidecar.Output.Split('\n').FirstOrDefault(l => l.Contains(requestId, StringComparison.Ordinal) && l.Contains("denied by the SSRF guard", StringComparison.Ordinal));
            if (line is not null) return line;
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"no SSRF log line for request {requestId} in:\n{sidecar.Output}");
            await Task.Delay(20);
        }
    }

    private static long Counter(string metrics, string reason)
    {
        var match = Regex.Match(metrics, $"^hoody_curl_ssrf_denied_total\\{{reason=\"{Regex.Escape(reason)}\"\\}} (\\d+)$", RegexOptions.Multiline);
        return match.Success ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }
}
