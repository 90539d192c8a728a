// /metrics as Prometheus itself sees it: a real Prometheus server (Debian's `prometheus` package, installed
// by build.sh for the tests) scrapes the published binary, and the series are read back through its HTTP
// API; `promtool check metrics` lints the same exposition.
using System.Diagnostics;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Host;

public class PrometheusScrapeTests
{
    private static string Tool(string name) =>
        new[] { "/usr/bin/" + name, "/usr/local/bin/" + name }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{name} is not installed: run ./build.sh test (it installs Debian's prometheus package) or apt-get install prometheus");

    [Test]
    public async Task Promtool_accepts_the_exposition()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url("/status/200"))}");
        using var metrics = await sidecar.Client.GetAsync("/metrics");
        await Assert.That(metrics.Content.Headers.ContentType!.ToString()).IsEqualTo("text/plain; version=0.0.4; charset=utf-8");
        var exposition = await metrics.Content.ReadAsStringAsync();
        await Assert.That(exposition).Contains("hoody_curl_requests_total{");

        var info = new ProcessStartInfo(Tool("promtool")) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("check");
        info.ArgumentList.Add("metrics");
        using var promtool = Process.Start(info)!;
        await promtool.StandardInput.WriteAsync(exposition);
        promtool.StandardInput.Close();
        var output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await promtool.WaitForExitAsync(cts.Token);
        await Assert.That(promtool.ExitCode).IsEqualTo(0).Because(output);
        await Assert.That(output.Trim()).IsEmpty();
    }

    [Test]
    public async Task A_real_prometheus_scrapes_the_series()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        await sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url("/status/200"))}");

        var dir = Directory.CreateTempSubdirectory("hoody-prom-").FullName;
        var webPort = Sidecar.FreePort();
        var config = Path.Combine(dir, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: hoody-curl
                static_configs:
                  - targets: ['127.0.0.1:{sidecar.Port}']
            """);
        var info = new ProcessStartInfo(Tool("prometheus")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(dir, "data"),
                     $"--web.listen-address=127.0.0.1:{webPort}", "--log.level=warn" })
            info.ArgumentList.Add(a);
        using var prometheus = Process.Start(info)!;
        var log = new System.Text.StringBuilder();
        prometheus.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        prometheus.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        prometheus.BeginOutputReadLine();
        prometheus.BeginErrorReadLine();
        try
        {
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{webPort}"), Timeout = TimeSpan.FromSeconds(5) };
            // Each query is retried until Prometheus has scraped at least once (bounded: 60 s in all).
            var deadline = Stopwatch.StartNew();
            async Task<JsonElement> Query(string promql)
            {
                while (true)
                {
                    try
                    {
                        var text = await api.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(promql));
                        var result = JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("result");
                        if (result.GetArrayLength() > 0) return result;
                    }
                    catch (HttpRequestException) { }
                    catch (TaskCanceledException) { }
                    if (deadline.Elapsed > TimeSpan.FromSeconds(60) || prometheus.HasExited)
                        throw new TimeoutException($"no result for {promql}; prometheus log:\n{log}");
                    await Task.Delay(250);
                }
            }

            var up = await Query("up{job=\"hoody-curl\"} == 1");
            await Assert.That(up[0].GetProperty("value")[1].GetString()).IsEqualTo("1");
            var requests = await Query("hoody_curl_requests_total{door=\"bridge\",outcome=\"ok\"}");
            await Assert.That(double.Parse(requests[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture)).IsGreaterThanOrEqualTo(1);
            var rss = await Query("process_resident_memory_bytes{job=\"hoody-curl\"}");
            await Assert.That(double.Parse(rss[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture)).IsGreaterThan(1_000_000);
            var histogram = await Query("hoody_curl_request_duration_seconds_count{door=\"bridge\"}");
            await Assert.That(histogram.GetArrayLength()).IsGreaterThanOrEqualTo(1);
        }
        finally
        {
            if (!prometheus.HasExited) { prometheus.Kill(true); await prometheus.WaitForExitAsync(); }
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
