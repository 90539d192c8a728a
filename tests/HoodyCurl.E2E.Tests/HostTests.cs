// The host: flags (validation, --help), health, metrics names, graceful shutdown.
using System.Diagnostics;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests;

public class HostTests
{
    private static async Task<(int Code, string Output)> RunBinary(params string[] args)
    {
        var info = new ProcessStartInfo(Sidecar.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Test]
    [Arguments("--listen", "nonsense", "--listen")]
    [Arguments("--pool-global", "-1", "--pool-global")]
    [Arguments("--pool-per-origin", "x", "--pool-per-origin")]
    [Arguments("--allow-cidr", "300.1.1.1/8", "--allow-cidr")]
    [Arguments("--resolve", "bad-entry", "--resolve")]
    [Arguments("--log-level", "loud", "--log-level")]
    [Arguments("--no-such-flag", "1", "--no-such-flag")]
    [Arguments("--upstream-proxy", "ftp://127.0.0.1:21", "--upstream-proxy")]
    [Arguments("--upstream-proxy", "http://127.0.0.1", "--upstream-proxy")]
    [Arguments("--link-history-max", "0", "--link-history-max")]
    [Arguments("--max-busy-transfers", "-1", "--max-busy-transfers")]
    public async Task Bad_flags_exit_non_zero_naming_the_flag(string flag, string value, string named)
    {
        var (code, output) = await RunBinary(flag, value, "--storage-dir", Path.Combine(Path.GetTempPath(), "hoody-flags-" + Guid.NewGuid().ToString("N")));
        await Assert.That(code).IsNotEqualTo(0);
        await Assert.That(output).Contains(named);
    }

    [Test]
    public async Task Help_lists_every_flag_with_its_default()
    {
        var (code, output) = await RunBinary("--help");
        await Assert.That(code).IsEqualTo(0);
        foreach (var flag in new[] { "--listen", "--storage-dir", "--max-request-body-bytes", "--pool-per-origin", "--pool-global",
                     "--default-timeout-secs", "--default-async-timeout-secs", "--max-timeout-secs", "--transfer-threads",
                     "--shutdown-timeout-secs", "--allow-cidr", "--deny-cidr", "--allow-private-networks", "--resolve", "--link-history-max", "--max-busy-transfers" })
            await Assert.That(output).Contains(flag);
        await Assert.That(output).Contains("[default: 127.0.0.1:8080]");
        await Assert.That(output).Contains("[default: 16777216]");
    }

    [Test]
    public async Task Health_has_the_nine_fields()
    {
        await using var sidecar = await Sidecar.StartAsync();
        foreach (var path in new[] { "/health", "/api/v1/curl/health" })
        {
            var (status, body) = await sidecar.Client.GetJsonAsync(path);
            await Assert.That(status).IsEqualTo(200);
            await Assert.That(body.GetProperty("status").GetString()).IsEqualTo("ok");
            await Assert.That(body.GetProperty("service").GetString()).IsEqualTo("hoody-curl");
            await Assert.That(body.GetProperty("pid").GetInt32()).IsEqualTo(sidecar.Pid);
            await Assert.That(body.GetProperty("memory").GetProperty("rss").GetInt64()).IsGreaterThan(0);
            foreach (var field in new[] { "built", "started", "fds", "ip", "userAgent" })
                await Assert.That(body.TryGetProperty(field, out _)).IsTrue();
        }
    }

    [Test]
    public async Task Metrics_expose_the_contract_names()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        for (var i = 0; i < 3; i++) await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url("/status/200"))}");
        await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q("http://10.0.0.1/")}");
        using var response = await sidecar.Client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        await Assert.That(response.Content.Headers.ContentType!.MediaType).IsEqualTo("text/plain");
        foreach (var name in new[] { "hoody_curl_pool_takes_total", "hoody_curl_pool_hits_total", "hoody_curl_pool_misses_total",
                     "hoody_curl_pool_puts_total", "hoody_curl_pool_evictions_total{reason=\"per_origin\"}", "hoody_curl_pool_bypasses_total{reason=\"cancellation\"}",
                     "hoody_curl_pool_idle", "hoody_curl_requests_total{door=\"bridge\",outcome=\"ok\"} 3", "hoody_curl_request_duration_seconds_bucket",
                     "hoody_curl_ssrf_denied_total{reason=\"private\"} 1", "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds" })
            await Assert.That(text).Contains(name);
        await Assert.That(text).Contains("hoody_curl_pool_hits_total 2");
        await Assert.That(text).DoesNotContain(upstream.BaseUrl);
    }

    [Test]
    public async Task Metrics_count_managed_allocation_and_collections()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        static double Sample(string text, string name) => Realtime.JobEventStreamTests.MetricValue(text, name);
        var before = await (await sidecar.Client.GetAsync("/metrics")).Content.ReadAsStringAsync();
        for (var i = 0; i < 20; i++) await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url("/status/200"))}");
        var after = await (await sidecar.Client.GetAsync("/metrics")).Content.ReadAsStringAsync();
        // Twenty relayed requests and a scrape allocate: the total moves, and never backwards.
        await Assert.That(Sample(after, "dotnet_gc_allocated_bytes_total")).IsGreaterThan(Sample(before, "dotnet_gc_allocated_bytes_total"));
        foreach (var generation in new[] { "0", "1", "2" })
        {
            var name = $"dotnet_gc_collections_total{{generation=\"{generation}\"}}";
            await Assert.That(Sample(after, name)).IsGreaterThanOrEqualTo(Sample(before, name));
        }
    }

    [Test]
    public async Task Graceful_shutdown_drains_in_flight_requests()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--shutdown-timeout-secs", "20");
        var trace = $"drain-{Guid.NewGuid():N}";
        var inFlight = sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/delay/1500?trace={trace}"))}");
        await upstream.Trace(trace).Started.WaitAsync(TimeSpan.FromSeconds(10));
        var stopping = sidecar.StopAsync();
        using var response = await inFlight;
        await Assert.That((int)response.StatusCode).IsEqualTo(200);
        var body = await Api.ReadJsonAsync(response);
        await Assert.That(body.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(await stopping).IsEqualTo(0);
    }

    [Test]
    public async Task Logs_one_line_per_request_without_secrets()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?bearer_token=SUPERSECRET&url={Api.Q(upstream.Url("/echo?token=QUERYSECRET"))}");
        await sidecar.StopAsync(); // the whole log, flushed: the process has exited and its output is drained
        var output = sidecar.Output;
        await Assert.That(output).Contains("door=bridge decision=allowed");
        await Assert.That(output).DoesNotContain("SUPERSECRET");
        await Assert.That(output).DoesNotContain("QUERYSECRET");
    }
}
