// How jobs execute through the engine: retries against an upstream that drops connections, the SSRF
// guard on a redirect inside a job, the queue bound, and a 500 MiB body with bounded memory and a
// ranged /result.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Jobs;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class JobExecutionTests
{
    [Test]
    public async Task Retries_against_an_upstream_that_drops_the_first_two_connections()
    {
        await using var flaky = FlakyServer.Start(2);
        await using var sidecar = await Sidecar.StartAsync();
        var id = await JobsApi.SubmitAsync(sidecar.Client, flaky.BaseUrl + "/", ",\"retry_count\":3,\"retry_delay\":0");
        var job = await JobsApi.WaitAsync(sidecar.Client, id);
        await Assert.That(job.Status()).IsEqualTo("completed");
        await Assert.That(job.GetProperty("retry_attempts").GetInt32()).IsEqualTo(3);
        await Assert.That(job.GetProperty("retry_count").GetInt32()).IsEqualTo(0);
        await Assert.That(job.GetProperty("request").GetProperty("retry_count").GetInt32()).IsEqualTo(3);
        await Assert.That(flaky.Accepted).IsEqualTo(3);

        // Without retries the same upstream fails the job.
        await using var flaky2 = FlakyServer.Start(1);
        var failedId = await JobsApi.SubmitAsync(sidecar.Client, flaky2.BaseUrl + "/");
        var failed = await JobsApi.WaitAsync(sidecar.Client, failedId);
        await Assert.That(failed.Status()).IsEqualTo("failed");
        await Assert.That(failed.GetProperty("error").GetString()).IsNotNull();
        await Assert.That(failed.GetProperty("response").ValueKind).IsEqualTo(System.Text.Json.JsonValueKind.Null);
        await Assert.That(failed.GetProperty("retry_attempts").GetInt32()).IsEqualTo(1);

        // Retries that all fail: every attempt is counted.
        await using var flaky3 = FlakyServer.Start(10);
        var exhaustedId = await JobsApi.SubmitAsync(sidecar.Client, flaky3.BaseUrl + "/", ",\"retry_count\":2,\"retry_delay\":0");
        var exhausted = await JobsApi.WaitAsync(sidecar.Client, exhaustedId);
        await Assert.That(exhausted.Status()).IsEqualTo("failed");
        await Assert.That(exhausted.GetProperty("retry_attempts").GetInt32()).IsEqualTo(3);
        await Assert.That(flaky3.Accepted).IsEqualTo(3);
    }

    [Test]
    public async Task A_redirect_to_a_denied_address_fails_the_job_naming_the_rule()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync(); // allows 127.0.0.1/32 only
        var target = $"http://127.0.0.2:{upstream.Port}/bytes/10";
        var id = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url($"/redirect-to?url={Api.Q(target)}"));
        var job = await JobsApi.WaitAsync(sidecar.Client, id);
        await Assert.That(job.Status()).IsEqualTo("failed");
        var error = job.GetProperty("error").GetString()!;
        await Assert.That(error).Contains("127.0.0.2");
        await Assert.That(error).Contains("loopback");
        var (status, noResult) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/jobs/{id}/result");
        await Assert.That(status).IsEqualTo(404); // a failed job never has a result (issue 15)
        await Assert.That(noResult.GetProperty("error").GetString()).IsEqualTo("JOB_HAS_NO_RESULT");

        // A literal denied URL is refused at submit, before any job exists.
        var (refused, body) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":\"{target}\",\"mode\":\"async\"}}");
        await Assert.That(refused).IsEqualTo(403);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("SSRF_BLOCKED");
    }

    [Test]
    public async Task A_full_queue_answers_503_with_retry_after()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-jobs", "1", "--max-pending-jobs", "2");
        var client = sidecar.Client;
        var trace = $"block-{Guid.NewGuid():N}";
        var blocker = await JobsApi.SubmitAsync(client, upstream.Url($"/delay/30000?trace={trace}"));
        await upstream.Trace(trace).Started.WaitAsync(TimeSpan.FromSeconds(10));
        var queued = new[] { await JobsApi.SubmitAsync(client, upstream.Url("/bytes/1")), await JobsApi.SubmitAsync(client, upstream.Url("/bytes/2")) };

        using (var response = await client.PostAsync("/api/v1/curl/request", Api.Json($"{{\"url\":\"{upstream.Url("/bytes/3")}\",\"mode\":\"async\"}}")))
        {
            await Assert.That((int)response.StatusCode).IsEqualTo(503);
            await Assert.That(response.Headers.RetryAfter?.Delta).IsEqualTo(TimeSpan.FromSeconds(5));
            var error = await Api.ReadJsonAsync(response);
            await Assert.That(error.GetProperty("error").GetString()).IsEqualTo("QUEUE_FULL");
        }
        // The GET bridge refuses the same way.
        var (bridge, _) = await client.GetJsonAsync($"/api/v1/curl/request?mode=async&url={Api.Q(upstream.Url("/bytes/4"))}");
        await Assert.That(bridge).IsEqualTo(503);
        await Assert.That(await client.GetStringAsync("/metrics")).Contains("hoody_curl_jobs_queue_depth 2");

        (await client.DeleteAsync($"/api/v1/curl/jobs/{blocker}")).Dispose();
        foreach (var id in queued) await Assert.That((await JobsApi.WaitAsync(client, id)).Status()).IsEqualTo("completed");
        var (accepted, _) = await client.GetJsonAsync($"/api/v1/curl/request?mode=async&url={Api.Q(upstream.Url("/bytes/4"))}");
        await Assert.That(accepted).IsEqualTo(202);
    }

    [Test]
    [NotInParallel("big-bodies")]
    public async Task A_500_mib_download_completes_with_bounded_memory_and_result_supports_range()
    {
        const long size = 500L * 1024 * 1024;
        const int seed = 7;
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var id = await JobsApi.SubmitAsync(client, upstream.Url($"/bytes/{size}?seed={seed}"), ",\"job_name\":\"big\"");
        var job = await JobsApi.WaitAsync(client, id, 180_000);
        await Assert.That(job.Status()).IsEqualTo("completed");
        var response = job.GetProperty("response");
        await Assert.That(response.GetProperty("body").GetArrayLength()).IsEqualTo(0);
        await Assert.That(response.GetProperty("body_truncated").GetBoolean()).IsTrue();
        await Assert.That(response.GetProperty("body_bytes").GetInt64()).IsEqualTo(size);
        await Assert.That(response.GetProperty("size_download").GetInt64()).IsEqualTo(size);
        // Memory per transfer is bounded by the pipe, whatever the body size.
        await Assert.That(sidecar.Memory().Peak).IsLessThan(128L * 1024 * 1024);

        var (_, events) = await client.GetJsonAsync($"/api/v1/curl/jobs/{id}/events");
        await Assert.That(events.GetProperty("items").EnumerateArray().Count(e => e.GetProperty("type").GetString() == "jobprogress")).IsGreaterThan(0);

        var (status, sha, length) = await JobsApi.ResultDigestAsync(client, id);
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(length).IsEqualTo(size);
        await Assert.That(sha).IsEqualTo(Payload.Sha256Hex(size, seed));
        await Assert.That(sidecar.Memory().Peak).IsLessThan(128L * 1024 * 1024);

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/curl/jobs/{id}/result"))
        {
            request.Headers.TryAddWithoutValidation("Range", "bytes=1000000-1000999");
            using var ranged = await client.SendAsync(request);
            await Assert.That((int)ranged.StatusCode).IsEqualTo(206);
            await Assert.That(ranged.Content.Headers.ContentRange!.ToString()).IsEqualTo($"bytes 1000000-1000999/{size}");
            var bytes = await ranged.Content.ReadAsByteArrayAsync();
            await Assert.That(Convert.ToHexString(bytes)).IsEqualTo(Convert.ToHexString(Payload.Create(1000, seed, 1_000_000)));
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/curl/jobs/{id}/result"))
        {
            request.Headers.TryAddWithoutValidation("Range", "bytes=-16");
            using var suffix = await client.SendAsync(request);
            await Assert.That((int)suffix.StatusCode).IsEqualTo(206);
            var bytes = await suffix.Content.ReadAsByteArrayAsync();
            await Assert.That(Convert.ToHexString(bytes)).IsEqualTo(Convert.ToHexString(Payload.Create(16, seed, size - 16)));
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/curl/jobs/{id}/result"))
        {
            request.Headers.TryAddWithoutValidation("Range", $"bytes={size}-");
            using var unsatisfiable = await client.SendAsync(request);
            await Assert.That((int)unsatisfiable.StatusCode).IsEqualTo(416);
            await Assert.That(unsatisfiable.Content.Headers.ContentRange!.ToString()).IsEqualTo($"bytes */{size}");
        }
        var body = Path.Combine(sidecar.StorageDir, "jobs", id, "body");
        await Assert.That(new FileInfo(body).Length).IsEqualTo(size);
        await Assert.That(File.GetUnixFileMode(body)).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await Assert.That(File.GetUnixFileMode(Path.Combine(sidecar.StorageDir, "hoody-curl.db"))).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
