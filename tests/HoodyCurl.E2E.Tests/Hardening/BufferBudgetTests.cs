// Issue 12 §3 / issue 16 item 5: a process-wide --max-buffered-bytes budget for bodies held in memory.
// Concurrent json-mode calls of large bodies beyond it are refused with 503 QUEUE_FULL and Retry-After,
// the process stays up, the calls that fit complete whole, and the budget gauge returns to zero.
using System.Net;
using System.Text;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Hardening;

public class BufferBudgetTests
{
    private const int Half = 2 * 1024 * 1024;
    private const int Size = Half + Half / 4; // 2.5 MiB: two fit in a 5 MiB budget, three do not

    [Test]
    public async Task Concurrent_json_calls_beyond_the_budget_get_503_with_retry_after_and_the_budget_returns_to_zero()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The first 2 MiB of each body at once, the rest only once the test opens the gate: every call holds
        // its first part at the same time, so the budget (5 MiB) cannot hold them all.
        await using var upstream = RawUpstream.Start(async (request, stream) =>
        {
            var body = new byte[Size];
            for (var i = 0; i < body.Length; i++) body[i] = (byte)('a' + i % 26);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Size}\r\n\r\n"));
            await stream.WriteAsync(body.AsMemory(0, Half));
            await stream.FlushAsync();
            await gate.Task;
            await stream.WriteAsync(body.AsMemory(Half));
        });
        await using var sidecar = await Sidecar.StartAsync("--max-buffered-bytes", (5 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));

        var refused = 0;
        var calls = Enumerable.Range(0, 6).Select(async i =>
        {
            using var response = await sidecar.Client.GetAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/big/{i}"))}&response=json");
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable) Interlocked.Increment(ref refused);
            return (response.StatusCode, Retry: response.Headers.RetryAfter?.Delta, text);
        }).ToArray();

        // Six calls hold 12 MiB before the gate opens; at most two fit, so refusals come before it opens.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Volatile.Read(ref refused) == 0 && DateTime.UtcNow < deadline && !calls.All(c => c.IsCompleted)) await Task.Delay(50);
        await Assert.That(Volatile.Read(ref refused)).IsGreaterThan(0);
        gate.SetResult();
        var results = await Task.WhenAll(calls);

        var ok = 0;
        foreach (var (status, retry, text) in results)
        {
            if (status == HttpStatusCode.OK)
            {
                ok++;
                using var document = JsonDocument.Parse(text);
                var body = document.RootElement.GetProperty("body").GetString()!;
                await Assert.That(body.Length).IsEqualTo(Size);
                await Assert.That(body[Size - 1]).IsEqualTo((char)('a' + (Size - 1) % 26));
                continue;
            }
            await Assert.That(status).IsEqualTo(HttpStatusCode.ServiceUnavailable).Because(text);
            using var error = JsonDocument.Parse(text);
            await Assert.That(error.RootElement.GetProperty("code").GetString()).IsEqualTo("QUEUE_FULL");
            await Assert.That(error.RootElement.GetProperty("message").GetString()!).Contains("--max-buffered-bytes");
            await Assert.That(retry).IsNotNull();
        }
        await Assert.That(ok).IsGreaterThan(0); // the last call alone always fits

        await Assert.That(sidecar.HasExited).IsFalse();
        using var health = await sidecar.Client.GetAsync("/health");
        await Assert.That(health.StatusCode).IsEqualTo(HttpStatusCode.OK);
        var metrics = await WaitForAsync(sidecar, m => Gauge(m, "hoody_curl_buffered_bytes") == 0, TimeSpan.FromSeconds(30));
        await Assert.That(Gauge(metrics, "hoody_curl_buffered_bytes")).IsEqualTo(0);
        await Assert.That(Gauge(metrics, "hoody_curl_buffer_budget_rejections_total")).IsGreaterThan(0);
    }

    private static async Task<string> WaitForAsync(Sidecar sidecar, Func<string, bool> done, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var text = await sidecar.Client.GetStringAsync("/metrics");
            if (done(text) || DateTime.UtcNow > deadline) return text;
            await Task.Delay(100);
        }
    }

    private static double Gauge(string metrics, string name)
    {
        foreach (var line in metrics.Split('\n'))
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
                return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return double.NaN;
    }
}
