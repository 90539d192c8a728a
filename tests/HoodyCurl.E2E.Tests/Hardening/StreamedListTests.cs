// Issue 16 item 6: GET /sessions without `limit` built the whole answer in memory (81 MB seen). The list
// is now streamed (chunked, no Content-Length) from batched reads, whole and in order across batches.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Sessions;

namespace HoodyCurl.E2E.Tests.Hardening;

public class StreamedListTests
{
    [Test]
    public async Task The_session_list_is_streamed_whole_and_in_order_across_batches()
    {
        await using var upstream = await HoodyCurl.TestUpstream.TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        const int count = 230; // three read batches of 100
        var ids = Enumerable.Range(0, count).Select(i => $"list-{i:D3}").ToArray();
        foreach (var chunk in ids.Chunk(8))
            await Task.WhenAll(chunk.Select(id => SessionsApi.EnvelopeAsync(sidecar.Client, upstream.Url($"/cookies/set?k={id}"), id, ",\"follow_redirects\":false")));

        using var response = await sidecar.Client.GetAsync("/api/v1/curl/sessions");
        await Assert.That((int)response.StatusCode).IsEqualTo(200);
        await Assert.That(response.Headers.TransferEncodingChunked == true).IsTrue(); // streamed, not assembled
        var body = await Api.ReadJsonAsync(response);
        var listed = body.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();
        await Assert.That(listed.Count).IsEqualTo(count);
        await Assert.That(listed.Order(StringComparer.Ordinal).SequenceEqual(ids)).IsTrue();
        await Assert.That(listed.Distinct().Count()).IsEqualTo(count);
        await Assert.That(body.GetProperty("meta").GetProperty("total").GetInt64()).IsEqualTo(count);
        await Assert.That(body.GetProperty("has_more").GetBoolean()).IsFalse();

        var (pageStatus, page) = await sidecar.Client.GetJsonAsync("/api/v1/curl/sessions?limit=100&page=2");
        await Assert.That(pageStatus).IsEqualTo(200);
        var pageIds = page.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();
        await Assert.That(pageIds.Count).IsEqualTo(100);
        await Assert.That(pageIds.SequenceEqual(listed.Skip(100).Take(100))).IsTrue();
        await Assert.That(page.GetProperty("has_more").GetBoolean()).IsTrue();
        var (lastStatus, last) = await sidecar.Client.GetJsonAsync("/api/v1/curl/sessions?limit=100&page=3");
        await Assert.That(lastStatus).IsEqualTo(200);
        await Assert.That(last.GetProperty("items").GetArrayLength()).IsEqualTo(30);
        await Assert.That(last.GetProperty("has_more").GetBoolean()).IsFalse();
    }

    /// <summary>Reads a whole list without `limit` (asserting it was streamed), then pages 2 and 3 of 100.</summary>
    private static async Task<List<string>> CheckStreamedAsync(HttpClient client, string route, string key, int count)
    {
        using var response = await client.GetAsync(route);
        await Assert.That((int)response.StatusCode).IsEqualTo(200);
        await Assert.That(response.Headers.TransferEncodingChunked == true).IsTrue(); // streamed, not assembled
        var body = await Api.ReadJsonAsync(response);
        var listed = body.GetProperty("items").EnumerateArray().Select(s => s.GetProperty(key).GetString()!).ToList();
        await Assert.That(listed.Count).IsEqualTo(count);
        await Assert.That(listed.Distinct().Count()).IsEqualTo(count);
        await Assert.That(body.GetProperty("meta").GetProperty("total").GetInt64()).IsEqualTo(count);
        await Assert.That(body.GetProperty("has_more").GetBoolean()).IsFalse();
        var separator = route.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        var (pageStatus, page) = await client.GetJsonAsync($"{route}{separator}limit=100&page=2");
        await Assert.That(pageStatus).IsEqualTo(200);
        var pageItems = page.GetProperty("items").EnumerateArray().Select(s => s.GetProperty(key).GetString()!).ToList();
        await Assert.That(pageItems.SequenceEqual(listed.Skip(100).Take(100))).IsTrue();
        await Assert.That(page.GetProperty("has_more").GetBoolean()).IsTrue();
        var (lastStatus, last) = await client.GetJsonAsync($"{route}{separator}limit=100&page=3");
        await Assert.That(lastStatus).IsEqualTo(200);
        await Assert.That(last.GetProperty("items").GetArrayLength()).IsEqualTo(count - 200);
        await Assert.That(last.GetProperty("has_more").GetBoolean()).IsFalse();
        return listed;
    }

    [Test]
    public async Task The_job_list_is_streamed_whole_newest_first_across_batches_and_filters_hold()
    {
        await using var upstream = await HoodyCurl.TestUpstream.TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var named = new List<string>();
        var all = new List<string>();
        for (var i = 0; i < 230; i++) // one at a time: submission order is the list's order, reversed
        {
            var id = await HoodyCurl.E2E.Tests.Jobs.JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/status/200"),
                i % 2 == 0 ? ",\"job_name\":\"even\"" : "");
            all.Add(id);
            if (i % 2 == 0) named.Add(id);
        }
        var listed = await CheckStreamedAsync(sidecar.Client, "/api/v1/curl/jobs", "id", all.Count);
        await Assert.That(listed.SequenceEqual(Enumerable.Reverse(all))).IsTrue();
        // A filter applies to every batch, not only the first.
        using var filtered = await sidecar.Client.GetAsync("/api/v1/curl/jobs?name=even");
        var evenBody = await Api.ReadJsonAsync(filtered);
        var even = evenBody.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();
        await Assert.That(even.SequenceEqual(Enumerable.Reverse(named))).IsTrue();
        await Assert.That(evenBody.GetProperty("meta").GetProperty("total").GetInt64()).IsEqualTo(named.Count);
    }

    [Test]
    public async Task The_storage_list_is_streamed_whole_and_in_path_order_across_batches()
    {
        await using var upstream = await HoodyCurl.TestUpstream.TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var paths = new List<string>();
        for (var i = 0; i < 80; i++) // three index paths each: 240 rows, three read batches
        {
            var (status, saved) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request",
                $"{{\"url\":\"{System.Text.Json.JsonEncodedText.Encode(upstream.Url("/bytes/10?seed=" + i))}\",\"save\":true}}");
            await Assert.That(status).IsEqualTo(200).Because(saved.ToString());
            paths.AddRange(saved.GetProperty("saved").GetProperty("paths").EnumerateArray().Select(p => p.GetString()!));
        }
        var listed = await CheckStreamedAsync(sidecar.Client, "/api/v1/curl/storage", "path", paths.Count);
        await Assert.That(listed.SequenceEqual(paths.Order(StringComparer.Ordinal))).IsTrue();
    }
}
