// Issue 14: an opening runs through the same doors as /request — sessions (cookies kept between links
// sharing a session_id), the json envelope when the link stores response=json, save into storage, and
// SSE passthrough in transparent mode.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Links;

public class LinkDoorsTests
{
    [Test]
    public async Task Openings_use_sessions_the_json_envelope_save_and_sse_passthrough()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        using var anonymous = LinksApi.Anonymous();

        // Sessions: one link logs in (sets a cookie), another sends it back.
        var (_, setPath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/cookies/set?flavor=mint"), ",\"session_id\":\"link-session\""));
        var (_, listPath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/cookies"), ",\"session_id\":\"link-session\",\"response\":\"json\""));
        using (var set = await anonymous.GetAsync(sidecar.BaseUrl + setPath))
            await Assert.That((int)set.StatusCode).IsLessThan(400);
        using (var list = await anonymous.GetAsync(sidecar.BaseUrl + listPath))
        {
            var envelope = await Api.ReadJsonAsync(list);
            await Assert.That((int)list.StatusCode).IsEqualTo(200);
            await Assert.That(envelope.GetProperty("status_code").GetInt32()).IsEqualTo(200);
            await Assert.That(envelope.GetProperty("success").GetBoolean()).IsTrue();
            using var cookies = JsonDocument.Parse(envelope.GetProperty("body").GetString()!);
            await Assert.That(cookies.RootElement.GetProperty("cookies").GetProperty("flavor").GetString()).IsEqualTo("mint");
        }

        // save: the body goes to storage and the answer is the envelope describing it.
        var (_, savePath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/bytes/1000"), ",\"save\":true"));
        using (var saved = await anonymous.GetAsync(sidecar.BaseUrl + savePath))
        {
            var envelope = await Api.ReadJsonAsync(saved);
            await Assert.That((int)saved.StatusCode).IsEqualTo(200).Because(envelope.ToString());
            await Assert.That(envelope.GetProperty("saved").GetProperty("size").GetInt64()).IsEqualTo(1000);
            var file = envelope.GetProperty("saved").GetProperty("path").GetString()!;
            var (storageStatus, storage) = await client.GetJsonAsync("/api/v1/curl/storage");
            await Assert.That(storageStatus).IsEqualTo(200);
            await Assert.That(storage.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("path").GetString() == file)).IsTrue();
        }

        // SSE: transparent mode relays the event stream as it comes.
        var (sseId, ssePath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/sse?count=3&interval_ms=20")));
        using (var sse = await anonymous.GetAsync(sidecar.BaseUrl + ssePath, HttpCompletionOption.ResponseHeadersRead))
        {
            await Assert.That((int)sse.StatusCode).IsEqualTo(200);
            await Assert.That(sse.Content.Headers.ContentType!.MediaType).IsEqualTo("text/event-stream");
            var text = await sse.Content.ReadAsStringAsync();
            // The upstream's three events, then the passthrough's one synthetic end frame (events.md §4.4).
            var frames = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
            await Assert.That(frames.Count(f => f.Contains("data:", StringComparison.Ordinal) && !f.StartsWith("event: end", StringComparison.Ordinal))).IsEqualTo(3).Because(text);
            await Assert.That(frames.Count(f => f.StartsWith("event: end", StringComparison.Ordinal))).IsEqualTo(1).Because(text);
            var history = await LinksApi.FinishedHistoryAsync(client, sseId);
            await Assert.That(history.Single().GetProperty("bytes").GetInt64()).IsEqualTo(System.Text.Encoding.UTF8.GetByteCount(text));
        }
    }
}
