// Transparent mode streams: a 100 MiB body passes byte-exact with flat memory, and a caller that
// goes away aborts the upstream transfer.
using System.Security.Cryptography;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Requests;

public class StreamingTests
{
    [Test]
    public async Task Hundred_mib_body_streams_byte_exact_with_bounded_memory()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        const long size = 100L * 1024 * 1024;
        var url = $"/api/v1/curl/request?response=transparent&url={Api.Q(upstream.Url($"/stream-bytes/{size}?seed=11"))}";
        using var response = await sidecar.Client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        await Assert.That((int)response.StatusCode).IsEqualTo(200);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            total += read;
        }
        await Assert.That(total).IsEqualTo(size);
        await Assert.That(Convert.ToHexStringLower(sha.GetHashAndReset())).IsEqualTo(Payload.Sha256Hex(size, 11));
        // Memory per transfer is bounded by the pipe, whatever the body size (the process idles near 30 MiB).
        await Assert.That(sidecar.Memory().Peak).IsLessThan(96L * 1024 * 1024);
    }

    [Test]
    public async Task Bodies_of_every_size_arrive_whole_one_after_another_on_one_kept_alive_connection()
    {
        // The relay copies the transfer's pipe into Kestrel with one flush per read. Kestrel does not flush what a
        // handler leaves unflushed in a Content-Length response on a kept-alive connection, so a copy that skipped
        // the last flush would hold the tail back until the keep-alive timeout (130 s): each body here has 20 s.
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 }) { BaseAddress = sidecar.Client.BaseAddress };
        long[] sizes = [1, 16 * 1024 - 1, 16 * 1024, 64 * 1024 + 1, 1024 * 1024 + 3, 3L * 1024 * 1024 + 7, 5];
        for (var i = 0; i < sizes.Length; i++)
        {
            var size = sizes[i];
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var url = $"/api/v1/curl/request?response=transparent&url={Api.Q(upstream.Url($"/bytes/{size}?seed={i + 3}"))}";
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            await Assert.That((int)response.StatusCode).IsEqualTo(200);
            await Assert.That(response.Content.Headers.ContentLength).IsEqualTo(size);
            var body = await response.Content.ReadAsByteArrayAsync(deadline.Token);
            await Assert.That((long)body.Length).IsEqualTo(size);
            await Assert.That(Convert.ToHexStringLower(SHA256.HashData(body))).IsEqualTo(Payload.Sha256Hex(size, i + 3));
        }
    }

    [Test]
    public async Task A_slow_reader_pauses_the_transfer_and_memory_stays_flat()
    {
        // The caller reads 1 MiB, then stops: the engine must pause libcurl (CURL_WRITEFUNC_PAUSE) instead of
        // buffering what the upstream keeps sending. Then it reads the rest slowly; the body arrives intact.
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        const long size = 64L * 1024 * 1024;
        var baseline = sidecar.Memory().Rss;
        var url = $"/api/v1/curl/request?response=transparent&url={Api.Q(upstream.Url($"/stream-bytes/{size}?seed=7"))}";
        using var response = await sidecar.Client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[16 * 1024];
        long total = 0;
        int read;
        while (total < 1024 * 1024 && (read = await body.ReadAsync(buffer)) > 0) { sha.AppendData(buffer, 0, read); total += read; }

        // The event: the transfer is paused while nobody reads (bounded wait).
        async Task<long> Pauses() => long.Parse((await sidecar.Client.GetStringAsync("/metrics")).Split('\n')
            .Single(l => l.StartsWith("hoody_curl_transfer_pauses_total ", StringComparison.Ordinal)).Split(' ')[1],
            System.Globalization.CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await Pauses() == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Assert.That(await Pauses()).IsGreaterThanOrEqualTo(1);
        var pausedRss = sidecar.Memory().Rss;

        // Slow reading: 16 KiB at a time with short breaks, so the reader stays behind the upstream throughout.
        var reads = 0;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            total += read;
            if (++reads % 64 == 0) await Task.Delay(1);
        }
        await Assert.That(total).IsEqualTo(size);
        await Assert.That(Convert.ToHexStringLower(sha.GetHashAndReset())).IsEqualTo(Payload.Sha256Hex(size, 7));
        // Paused many times (once per pipe's worth), and never holding more than a few pipes: without the
        // pause the whole 64 MiB would have been buffered while the reader was behind.
        await Assert.That(await Pauses()).IsGreaterThan(8);
        var peak = sidecar.Memory().Peak;
        await Assert.That(peak - baseline).IsLessThan(48L * 1024 * 1024).Because($"baseline {baseline >> 20} MiB, paused {pausedRss >> 20} MiB, peak {peak >> 20} MiB");
    }

    [Test]
    public async Task Client_disconnect_aborts_the_upstream_transfer()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var trace = $"disconnect-{Guid.NewGuid():N}";
        var url = $"/api/v1/curl/request?response=transparent&url={Api.Q(upstream.Url($"/stream-bytes/{10L * 1024 * 1024 * 1024}?trace={trace}"))}";
        using (var client = new HttpClient())
        {
            using var response = await client.GetAsync(sidecar.BaseUrl + url, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[1024 * 1024];
            await body.ReadAtLeastAsync(buffer, buffer.Length);
        } // disposing the client closes the connection mid-body
        var aborted = await Task.WhenAny(upstream.Trace(trace).Aborted, Task.Delay(TimeSpan.FromSeconds(20)));
        await Assert.That(aborted == upstream.Trace(trace).Aborted).IsTrue();

        // And one waiting for the head (no body yet): the upstream request is aborted too.
        var trace2 = $"disconnect-head-{Guid.NewGuid():N}";
        using (var cts = new CancellationTokenSource())
        using (var client = new HttpClient())
        {
            var pending = client.GetAsync(sidecar.BaseUrl + $"/api/v1/curl/request?url={Api.Q(upstream.Url($"/delay/30000?trace={trace2}"))}", cts.Token);
            await upstream.Trace(trace2).Started.WaitAsync(TimeSpan.FromSeconds(10));
            await cts.CancelAsync();
            try { await pending; } catch (OperationCanceledException) { }
        }
        var aborted2 = await Task.WhenAny(upstream.Trace(trace2).Aborted, Task.Delay(TimeSpan.FromSeconds(20)));
        await Assert.That(aborted2 == upstream.Trace(trace2).Aborted).IsTrue();
    }

    [Test]
    public async Task Failure_after_the_first_byte_truncates_the_response()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        using var response = await sidecar.Client.GetAsync(
            $"/api/v1/curl/request?response=transparent&url={Api.Q(upstream.Url("/close-early?bytes=100000"))}", HttpCompletionOption.ResponseHeadersRead);
        await Assert.That((int)response.StatusCode).IsEqualTo(200);
        var failed = false;
        try { await response.Content.ReadAsByteArrayAsync(); }
        catch (HttpRequestException) { failed = true; }
        catch (IOException) { failed = true; }
        await Assert.That(failed).IsTrue();
        var (status, _) = await sidecar.Client.GetJsonAsync("/health");
        await Assert.That(status).IsEqualTo(200);
    }
}
