// Issue 14 acceptance: webhook relay. A POST to a link with forward_body and mode async delivers the
// body byte-exact upstream and the link's history entry names the job. A body over
// --max-request-body-bytes is 413 and spends no use.
using System.Net.Http.Headers;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Jobs;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Links;

public class LinkWebhookTests
{
    [Test]
    public async Task A_relayed_body_arrives_byte_exact_through_an_async_job_that_the_history_names()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-request-body-bytes", "200000");
        var client = sidecar.Client;
        using var anonymous = LinksApi.Anonymous();
        var (id, path, created) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/echo?hook=1"), ",\"method\":\"POST\"",
            ",\"forward_body\":true,\"mode\":\"async\",\"methods\":[\"POST\"],\"name\":\"webhook relay\""));
        await Assert.That(created.GetProperty("mode").GetString()).IsEqualTo("async");
        await Assert.That(created.GetProperty("forward_body").GetBoolean()).IsTrue();

        var payload = new byte[65_536 + 17];
        new Random(14).NextBytes(payload);
        payload[0] = 0; payload[1] = (byte)'\r'; payload[2] = (byte)'\n'; // bytes a text path would mangle
        using var content = new ByteArrayContent(payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var accepted = await anonymous.PostAsync(sidecar.BaseUrl + path, content);
        var answer = await Api.ReadJsonAsync(accepted);
        await Assert.That((int)accepted.StatusCode).IsEqualTo(202).Because(answer.ToString());
        var jobId = answer.GetProperty("job_id").GetString()!;

        var job = await JobsApi.WaitAsync(client, jobId);
        await Assert.That(job.Status()).IsEqualTo("completed");
        var (resultStatus, result) = await client.GetJsonAsync($"/api/v1/curl/jobs/{jobId}/result");
        await Assert.That(resultStatus).IsEqualTo(200);
        await Assert.That(result.GetProperty("method").GetString()).IsEqualTo("POST");
        await Assert.That(result.GetProperty("body_length").GetInt64()).IsEqualTo(payload.Length);
        await Assert.That(result.GetProperty("body_sha256").GetString()).IsEqualTo(JobsApi.Sha256(payload));
        await Assert.That(result.GetProperty("headers").GetProperty("content-type").GetString()).IsEqualTo("application/octet-stream");

        var history = await LinksApi.FinishedHistoryAsync(client, id);
        await Assert.That(history.Count).IsEqualTo(1);
        var entry = history[0];
        await Assert.That(entry.GetProperty("job_id").GetString()).IsEqualTo(jobId);
        await Assert.That(entry.GetProperty("status").GetInt32()).IsEqualTo(202);
        await Assert.That(entry.GetProperty("method").GetString()).IsEqualTo("POST");
        await Assert.That(entry.GetProperty("caller").GetString()).IsEqualTo("127.0.0.1");
        await Assert.That(entry.GetProperty("request_bytes").GetInt64()).IsEqualTo(payload.Length);
        await Assert.That(entry.GetProperty("bytes").GetInt64()).IsEqualTo(accepted.Content.Headers.ContentLength!.Value);
        await Assert.That(entry.GetProperty("duration_ms").ValueKind).IsEqualTo(JsonValueKind.Number);
        await Assert.That(entry.GetProperty("error").ValueKind).IsEqualTo(JsonValueKind.Null);
        var entryId = entry.GetProperty("id").GetInt64();

        // Over --max-request-body-bytes: 413 PAYLOAD_TOO_LARGE, no use spent, no job.
        using var tooLarge = await anonymous.PostAsync(sidecar.BaseUrl + path, new ByteArrayContent(new byte[200_001]));
        await Assert.That((int)tooLarge.StatusCode).IsEqualTo(413);
        await Assert.That((await Api.ReadJsonAsync(tooLarge)).GetProperty("code").GetString()).IsEqualTo("PAYLOAD_TOO_LARGE");
        await Assert.That((await LinksApi.GetAsync(client, id)).GetProperty("use_count").GetInt64()).IsEqualTo(1);
        await Assert.That((await LinksApi.HistoryAsync(client, id, after: entryId)).Count).IsEqualTo(0);
    }

    [Test]
    public async Task History_is_bounded_by_link_history_max_dropping_the_oldest()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--link-history-max", "3");
        using var anonymous = LinksApi.Anonymous();
        var (id, path, _) = await LinksApi.CreateAsync(sidecar.Client, LinksApi.Body(upstream.Url("/bytes/10")));
        for (var i = 0; i < 5; i++)
        {
            using var ok = await anonymous.GetAsync(sidecar.BaseUrl + path);
            await Assert.That((int)ok.StatusCode).IsEqualTo(200);
        }
        var history = await LinksApi.FinishedHistoryAsync(sidecar.Client, id);
        await Assert.That(history.Count).IsEqualTo(3);
        var entryIds = history.Select(e => e.GetProperty("id").GetInt64()).ToList();
        await Assert.That(entryIds.SequenceEqual(entryIds.Order())).IsTrue();
        foreach (var e in history) await Assert.That(e.GetProperty("bytes").GetInt64()).IsEqualTo(10);
        await Assert.That((await LinksApi.GetAsync(sidecar.Client, id)).GetProperty("use_count").GetInt64()).IsEqualTo(5);
        var later = await LinksApi.HistoryAsync(sidecar.Client, id, after: entryIds[1]);
        await Assert.That(later.Single().GetProperty("id").GetInt64()).IsEqualTo(entryIds[2]);
    }
}
