// GET /jobs/{id}/result ranges and validators: one implementation with storage downloads (the framework's),
// so If-Range holds; hop-by-hop headers are dropped by the engine's one list on both the relay and the result.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Jobs;

public class JobResultRangeTests
{
    private static async Task<HttpResponseMessage> ResultAsync(HttpClient client, string id, string? range = null, string? ifRange = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/curl/jobs/{id}/result");
        if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
        if (ifRange is not null) request.Headers.TryAddWithoutValidation("If-Range", ifRange);
        return await client.SendAsync(request);
    }

    [Test]
    public async Task Range_honours_if_range_against_the_job_tag_and_refuses_past_the_end()
    {
        const int size = 10_000, seed = 3;
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var id = await JobsApi.SubmitAsync(client, upstream.Url($"/bytes/{size}?seed={seed}"));
        await Assert.That((await JobsApi.WaitAsync(client, id)).Status()).IsEqualTo("completed");

        using var whole = await ResultAsync(client, id);
        await Assert.That((int)whole.StatusCode).IsEqualTo(200);
        await Assert.That(whole.Headers.AcceptRanges.Contains("bytes")).IsTrue();
        var tag = whole.Headers.ETag!.ToString();
        await Assert.That(tag).IsEqualTo($"\"{id}\"");
        await Assert.That((await whole.Content.ReadAsByteArrayAsync()).Length).IsEqualTo(size);

        using (var ranged = await ResultAsync(client, id, "bytes=100-199", tag))
        {
            await Assert.That((int)ranged.StatusCode).IsEqualTo(206);
            await Assert.That(ranged.Content.Headers.ContentRange!.ToString()).IsEqualTo($"bytes 100-199/{size}");
            await Assert.That(Convert.ToHexString(await ranged.Content.ReadAsByteArrayAsync()))
                .IsEqualTo(Convert.ToHexString(Payload.Create(100, seed, 100)));
        }
        // A validator that does not match: the whole body, 200 (RFC 9110 §13.1.5).
        using (var stale = await ResultAsync(client, id, "bytes=100-199", "\"another\""))
        {
            await Assert.That((int)stale.StatusCode).IsEqualTo(200);
            await Assert.That((await stale.Content.ReadAsByteArrayAsync()).Length).IsEqualTo(size);
        }
        using (var suffix = await ResultAsync(client, id, "bytes=-16"))
        {
            await Assert.That((int)suffix.StatusCode).IsEqualTo(206);
            await Assert.That(Convert.ToHexString(await suffix.Content.ReadAsByteArrayAsync()))
                .IsEqualTo(Convert.ToHexString(Payload.Create(16, seed, size - 16)));
        }
        using (var beyond = await ResultAsync(client, id, $"bytes={size}-"))
        {
            await Assert.That((int)beyond.StatusCode).IsEqualTo(416);
            await Assert.That(beyond.Content.Headers.ContentRange!.ToString()).IsEqualTo($"bytes */{size}");
        }
    }

    [Test]
    public async Task Upstream_etag_is_the_validator_and_hop_by_hop_headers_never_pass()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var url = upstream.Url("/response-headers?ETag=%22up-1%22&Proxy-Authenticate=Basic%20realm%3Dx&X-Keep=1");
        var id = await JobsApi.SubmitAsync(client, url);
        await Assert.That((await JobsApi.WaitAsync(client, id)).Status()).IsEqualTo("completed");

        using var whole = await ResultAsync(client, id);
        await Assert.That((int)whole.StatusCode).IsEqualTo(200);
        await Assert.That(whole.Headers.ETag!.ToString()).IsEqualTo("\"up-1\"");
        await Assert.That(whole.Headers.Contains("X-Keep")).IsTrue();
        await Assert.That(whole.Headers.Contains("Proxy-Authenticate")).IsFalse();
        var body = await whole.Content.ReadAsByteArrayAsync();

        using (var ranged = await ResultAsync(client, id, "bytes=0-0", "\"up-1\""))
        {
            await Assert.That((int)ranged.StatusCode).IsEqualTo(206);
            await Assert.That(await ranged.Content.ReadAsByteArrayAsync()).IsEquivalentTo(new[] { body[0] });
        }
        // A weak validator never matches If-Range.
        using (var weak = await ResultAsync(client, id, "bytes=0-0", "W/\"up-1\""))
            await Assert.That((int)weak.StatusCode).IsEqualTo(200);

        // The transparent relay drops the same list.
        using var relayed = await client.PostAsync("/api/v1/curl/request",
            new StringContent($"{{\"url\":\"{url}\"}}", System.Text.Encoding.UTF8, "application/json"));
        await Assert.That((int)relayed.StatusCode).IsEqualTo(200);
        await Assert.That(relayed.Headers.Contains("X-Keep")).IsTrue();
        await Assert.That(relayed.Headers.Contains("Proxy-Authenticate")).IsFalse();
    }
}
