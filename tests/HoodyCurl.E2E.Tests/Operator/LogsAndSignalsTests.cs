// Logs, ids and signals (issue 15, items 11-13): --log-level governs every category, --log-format json
// writes one object per line, one start-up summary line; rejected requests are logged and counted;
// X-Request-Id on every answer; the second signal reports, the third exits; --listen :0 picks a port.
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Operator;

public partial class LogsAndSignalsTests
{
    [Test]
    public async Task One_start_up_line_with_address_storage_policy_and_limits()
    {
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-jobs", "3");
        var line = await sidecar.WaitForLineAsync(" listening on ", TimeSpan.FromSeconds(10));
        await Assert.That(line).Contains($"listening on http://127.0.0.1:{sidecar.Port}");
        await Assert.That(line).Contains($"storage={sidecar.StorageDir}");
        await Assert.That(line).Contains("allow=[127.0.0.1/32]");
        await Assert.That(line).Contains("max-concurrent-jobs=3");
        await Assert.That(line).Contains("max-request-body-bytes=16777216");
        await Assert.That(sidecar.Output).DoesNotContain("Microsoft.Hosting.Lifetime");
        await Assert.That(sidecar.Output).DoesNotContain("Press Ctrl+C");
    }

    [Test]
    public async Task Simple_lines_start_with_the_UTC_time_of_the_event_to_the_millisecond()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var listening = await sidecar.WaitForLineAsync(" listening on ", TimeSpan.FromSeconds(10));
        await Assert.That(StampedLine().IsMatch(listening)).IsTrue();

        // Two requests far enough apart that a timestamp reused across them (a stale cache) would fall outside the
        // window of the second; each access line's time must lie between its request's send and its answer.
        foreach (var id in new[] { "stamp-a", "stamp-b" })
        {
            var before = DateTime.UtcNow;
            using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/curl/request?url={Api.Q(upstream.Url("/status/200"))}"))
            {
                request.Headers.Add("X-Request-Id", id);
                using var response = await sidecar.Client.SendAsync(request);
                await Assert.That((int)response.StatusCode).IsEqualTo(200);
            }
            var line = await sidecar.WaitForLineAsync($"request {id} door=bridge decision=allowed", TimeSpan.FromSeconds(10));
            var after = DateTime.UtcNow;
            var match = StampedLine().Match(line);
            await Assert.That(match.Success).IsTrue();
            var stamp = DateTime.ParseExact(match.Groups[1].Value, "yyyy-MM-ddTHH:mm:ss.fff'Z'",
                System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal);
            await Assert.That(stamp).IsGreaterThanOrEqualTo(before.AddMilliseconds(-1));
            await Assert.That(stamp).IsLessThanOrEqualTo(after);
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (info|warn|fail|crit|dbug|trce): \S")]
    private static partial Regex StampedLine();

    [Test]
    public async Task Log_level_warning_silences_every_category()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--log-level", "warning");
        await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url("/status/200"))}");
        await sidecar.StopAsync();
        await Assert.That(sidecar.Output).DoesNotContain(" info: ");
    }

    [Test]
    public async Task Log_format_json_writes_one_object_per_line()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--log-format", "json");
        await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url("/status/200"))}");
        await sidecar.WaitForLineAsync("decision=allowed", TimeSpan.FromSeconds(10));
        await sidecar.StopAsync();
        var lines = sidecar.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await Assert.That(lines.Length).IsGreaterThanOrEqualTo(3);
        foreach (var line in lines)
        {
            using var document = JsonDocument.Parse(line);
            await Assert.That(document.RootElement.TryGetProperty("Category", out _)).IsTrue();
            await Assert.That(document.RootElement.TryGetProperty("Message", out _)).IsTrue();
        }
        await Assert.That(lines.Count(l => l.Contains("listening on http://", StringComparison.Ordinal))).IsEqualTo(1);
    }

    [Test]
    public async Task Request_ids_are_on_every_answer_and_a_valid_incoming_one_is_kept()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        foreach (var path in new[] { "/health", "/no-such-route", "/api/v1/curl/jobs/does-not-exist" })
        {
            using var response = await sidecar.Client.GetAsync(path);
            await Assert.That(response.Headers.TryGetValues("X-Request-Id", out var ids)).IsTrue();
            await Assert.That(Guid.TryParse(ids!.Single(), out _)).IsTrue();
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/curl/request?url={Api.Q(upstream.Url("/status/200"))}"))
        {
            request.Headers.Add("X-Request-Id", "trace-Abc_123");
            using var response = await sidecar.Client.SendAsync(request);
            await Assert.That(response.Headers.GetValues("X-Request-Id").Single()).IsEqualTo("trace-Abc_123");
            var envelope = await Api.ReadJsonAsync(response);
            await Assert.That(envelope.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        }
        await sidecar.WaitForLineAsync("request trace-Abc_123 door=bridge decision=allowed", TimeSpan.FromSeconds(10));

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/health"))
        {
            request.Headers.TryAddWithoutValidation("X-Request-Id", "../../etc/passwd");
            using var response = await sidecar.Client.SendAsync(request);
            var id = response.Headers.GetValues("X-Request-Id").Single();
            await Assert.That(Guid.TryParse(id, out _)).IsTrue();
        }
    }

    [Test]
    public async Task Rejected_requests_are_logged_and_counted_as_invalid()
    {
        await using var sidecar = await Sidecar.StartAsync("--max-request-body-bytes", "1000");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/curl/request") { Content = Api.Json("{\"url\":") })
        {
            request.Headers.Add("X-Request-Id", "bad-json-1");
            using var response = await sidecar.Client.SendAsync(request);
            await Assert.That((int)response.StatusCode).IsEqualTo(400);
        }
        var (tooLarge, _) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", "{\"url\":\"" + new string('a', 2000) + "\"}");
        await Assert.That(tooLarge).IsEqualTo(413);
        var (unknown, _) = await sidecar.Client.GetJsonAsync("/api/v1/curl/request?url=http%3A%2F%2Fx%2F&timeout=soon");
        await Assert.That(unknown).IsEqualTo(400);

        var line = await sidecar.WaitForLineAsync("request bad-json-1 door=rest decision=rejected", TimeSpan.FromSeconds(10));
        await Assert.That(line).Contains("status=400");
        var metrics = await sidecar.Client.GetStringAsync("/metrics");
        await Assert.That(metrics).Contains("hoody_curl_requests_total{door=\"rest\",outcome=\"invalid\"} 2");
        await Assert.That(metrics).Contains("hoody_curl_requests_total{door=\"bridge\",outcome=\"invalid\"} 1");
    }

    [Test]
    public async Task Second_signal_reports_what_runs_and_the_third_forces_the_exit()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--shutdown-timeout-secs", "60");
        var trace = $"sig-{Guid.NewGuid():N}";
        var inFlight = sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/delay/30000?trace={trace}"))}");
        await upstream.Trace(trace).Started.WaitAsync(TimeSpan.FromSeconds(10));

        sidecar.Signal(Posix.SIGTERM);
        var first = await sidecar.WaitForLineAsync("stopping on SIGTERM", TimeSpan.FromSeconds(10));
        await Assert.That(first).Contains("draining 1 requests");
        // A runner started in the background by a shell without job control ignores SIGINT, and so does every child
        // (the runtime keeps an inherited SIG_IGN for SIGINT): then the second signal is a SIGTERM as well.
        sidecar.Signal(SigIntIgnored() ? Posix.SIGTERM : Posix.SIGINT);
        var second = await sidecar.WaitForLineAsync("still draining", TimeSpan.FromSeconds(10));
        await Assert.That(second).Contains("1 requests");
        await Assert.That(sidecar.HasExited).IsFalse();

        var clock = Stopwatch.StartNew();
        sidecar.Signal(Posix.SIGTERM);
        var code = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await Assert.That(code).IsEqualTo(1);
        await Assert.That(clock.Elapsed).IsLessThan(TimeSpan.FromSeconds(10));
        await Assert.That(sidecar.Output).Contains("forced exit");
        try { using var _ = await inFlight; } catch (HttpRequestException) { } // the connection died with the process
    }

    [Test]
    public async Task Listen_on_port_0_picks_a_free_port_and_logs_it()
    {
        var dir = Directory.CreateTempSubdirectory("hoody-e2e-port0-").FullName;
        var info = new ProcessStartInfo(Sidecar.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--listen", "127.0.0.1:0", "--storage-dir", dir }) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            int port = 0;
            while (port == 0)
            {
                var line = await process.StandardOutput.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("exited: " + await process.StandardError.ReadToEndAsync());
                if (ListeningOn().Match(line) is { Success: true } m) port = int.Parse(m.Groups[1].Value);
            }
            await Assert.That(port).IsGreaterThan(0);
            using var client = new HttpClient();
            var health = JsonDocument.Parse(await client.GetStringAsync($"http://127.0.0.1:{port}/health"));
            await Assert.That(health.RootElement.GetProperty("pid").GetInt32()).IsEqualTo(process.Id);
        }
        finally
        {
            Posix.Kill(process.Id, Posix.SIGTERM);
            await process.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    [GeneratedRegex(@"listening on http://127\.0\.0\.1:(\d+) ")]
    private static partial Regex ListeningOn();

    /// <summary>Whether this process ignores SIGINT (bit 2 of SigIgn in /proc/self/status), which its children inherit.</summary>
    private static bool SigIntIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << (2 - 1))) != 0;
    }
}
