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
}
