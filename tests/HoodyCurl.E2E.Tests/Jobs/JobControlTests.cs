// Following and steering jobs: long-poll, cancel (pending, running, finished), rerun, the event log
// with after=, the cancel alias, and the result's status before completion.
using System.Diagnostics;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Jobs;

public class JobControlTests
{
    private const string CancelBody = "{\"statusCode\":200,\"message\":\"Job cancellation requested\"}";

    [Test]
    [Retry(2)] // a timing figure measured on a shared 2-core CI machine: one retry for scheduler noise
    public async Task Long_poll_returns_within_100_ms_of_completion_and_the_job_as_is_at_its_timeout()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var id = await JobsApi.SubmitAsync(client, upstream.Url("/delay/1500"));

        var clock = Stopwatch.StartNew();
        var (status, early) = await client.GetJsonAsync($"/api/v1/curl/jobs/{id}?wait=done&timeout_ms=300");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(clock.ElapsedMilliseconds).IsGreaterThanOrEqualTo(290);
        await Assert.That(clock.ElapsedMilliseconds).IsLessThan(1000);
        await Assert.That(early.Status()).IsIn("pending", "running");

        var (_, done) = await client.GetJsonAsync($"/api/v1/curl/jobs/{id}?wait=done&timeout_ms=20000");
        var returnedAt = DateTimeOffset.UtcNow;
        await Assert.That(done.Status()).IsEqualTo("completed");
        var completedAt = DateTimeOffset.Parse(done.GetProperty("completed_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        await Assert.That((returnedAt - completedAt).TotalMilliseconds).IsLessThan(100);

        // Without wait, or on a finished job, it answers at once; bad values are 400.
        clock.Restart();
        await client.GetJsonAsync($"/api/v1/curl/jobs/{id}?wait=done&timeout_ms=60000");
        await Assert.That(clock.ElapsedMilliseconds).IsLessThan(500);
        var (bad, _) = await client.GetJsonAsync($"/api/v1/curl/jobs/{id}?wait=done&timeout_ms=soon");
        await Assert.That(bad).IsEqualTo(400);
    }

    [Test]
    [Retry(2)] // a timing figure measured on a shared 2-core CI machine: one retry for scheduler noise
    public async Task Cancel_of_a_pending_job_and_of_a_running_30s_transfer_end_cancelled_within_a_second()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-jobs", "1");
        var client = sidecar.Client;
        var runningTrace = $"run-{Guid.NewGuid():N}";
        var pendingTrace = $"pend-{Guid.NewGuid():N}";
        // 30 s transfer: 30 chunks of 10 bytes, one per second.
        var running = await JobsApi.SubmitAsync(client, upstream.Url($"/slow/300?chunk=10&interval_ms=1000&trace={runningTrace}"));
        var pending = await JobsApi.SubmitAsync(client, upstream.Url($"/bytes/10?trace={pendingTrace}"));
        await upstream.Trace(runningTrace).Started.WaitAsync(TimeSpan.FromSeconds(10));

        // The result is not ready while it runs.
        var (notReady, notReadyBody) = await client.GetJsonAsync($"/api/v1/curl/jobs/{running}/result");
        await Assert.That(notReady).IsEqualTo(409);
        await Assert.That(notReadyBody.GetProperty("error").GetString()).IsEqualTo("JOB_RESULT_NOT_READY");
        await Assert.That(notReadyBody.GetProperty("message").GetString()).IsEqualTo("Job result not available yet");

        var clock = Stopwatch.StartNew();
        using (var response = await client.DeleteAsync($"/api/v1/curl/jobs/{pending}"))
        {
            await Assert.That((int)response.StatusCode).IsEqualTo(200);
            await Assert.That(await response.Content.ReadAsStringAsync()).IsEqualTo(CancelBody);
        }
        var pendingJob = await JobsApi.GetAsync(client, pending);
        await Assert.That(pendingJob.Status()).IsEqualTo("cancelled");
        await Assert.That(pendingJob.GetProperty("error").GetString()).IsEqualTo("Cancelled");
        await Assert.That(pendingJob.GetProperty("cancel_requested").GetBoolean()).IsTrue();
        await Assert.That(clock.ElapsedMilliseconds).IsLessThan(1000);

        clock.Restart();
        using (var response = await client.PostAsync($"/api/v1/curl/jobs/{running}/cancel", null))
        {
            await Assert.That((int)response.StatusCode).IsEqualTo(200);
            await Assert.That(await response.Content.ReadAsStringAsync()).IsEqualTo(CancelBody);
        }
        var runningJob = await JobsApi.WaitAsync(client, running, 1000);
        await Assert.That(clock.ElapsedMilliseconds).IsLessThan(1000);
        await Assert.That(runningJob.Status()).IsEqualTo("cancelled");
        await Assert.That(runningJob.GetProperty("error").GetString()).IsEqualTo("Cancelled");
        await upstream.Trace(runningTrace).Aborted.WaitAsync(TimeSpan.FromSeconds(30)); // the transfer really stopped

        // The pending one never ran: the worker is free and took nothing for it.
        await Task.Delay(300);
        await Assert.That(upstream.Trace(pendingTrace).Hits).IsEqualTo(0);
        // A cancelled job will never have a result: a distinct answer tells the client to stop polling (issue 15).
        var (noResult, noResultBody) = await client.GetJsonAsync($"/api/v1/curl/jobs/{pending}/result");
        await Assert.That(noResult).IsEqualTo(404);
        await Assert.That(noResultBody.GetProperty("error").GetString()).IsEqualTo("JOB_HAS_NO_RESULT");
        await Assert.That(noResultBody.GetProperty("status").GetString()).IsEqualTo("cancelled");
    }

    [Test]
    public async Task Cancel_of_a_finished_job_changes_nothing()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var id = await JobsApi.SubmitAsync(client, upstream.Url("/bytes/100"));
        var before = await JobsApi.WaitAsync(client, id);
        using (var response = await client.DeleteAsync($"/api/v1/curl/jobs/{id}"))
        {
            await Assert.That((int)response.StatusCode).IsEqualTo(200);
            await Assert.That(await response.Content.ReadAsStringAsync()).IsEqualTo(CancelBody);
        }
        var after = await JobsApi.GetAsync(client, id);
        await Assert.That(after.GetRawText()).IsEqualTo(before.GetRawText());
    }

    [Test]
    public async Task Rerun_and_the_event_log_with_after()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        // 200 KiB over ~1.2 s with a Content-Length: progress events in between.
        var id = await JobsApi.SubmitAsync(client, upstream.Url("/slow/204800?chunk=16384&interval_ms=100"),
            ",\"job_name\":\"ev\",\"bearer_token\":\"top-secret\",\"headers\":{\"X-Api-Key\":\"k1\",\"Accept\":\"*/*\"}");
        var job = await JobsApi.WaitAsync(client, id);
        await Assert.That(job.Status()).IsEqualTo("completed");
        await Assert.That(job.GetProperty("progress").GetDouble()).IsEqualTo(1.0);
        await Assert.That(job.GetProperty("request").GetProperty("bearer_token").GetString()).IsEqualTo("***");
        await Assert.That(job.GetProperty("request").GetProperty("headers").GetProperty("X-Api-Key").GetString()).IsEqualTo("***");
        await Assert.That(job.GetRawText()).DoesNotContain("top-secret");

        var (status, events) = await client.GetJsonAsync($"/api/v1/curl/jobs/{id}/events");
        await Assert.That(status).IsEqualTo(200);
        var items = events.GetProperty("items").EnumerateArray().ToList();
        await Assert.That(items.First().GetProperty("type").GetString()).IsEqualTo("jobstarted");
        await Assert.That(items.First().GetProperty("payload").GetProperty("name").GetString()).IsEqualTo("ev");
        await Assert.That(items.Last().GetProperty("type").GetString()).IsEqualTo("jobcompleted");
        await Assert.That(items.Last().GetProperty("payload").GetProperty("status").GetString()).IsEqualTo("completed");
        var progress = items.Where(e => e.GetProperty("type").GetString() == "jobprogress").ToList();
        await Assert.That(progress.Count).IsGreaterThanOrEqualTo(2);
        foreach (var e in items)
            foreach (var field in new[] { "id", "type", "level", "message", "payload", "timestamp" })
                await Assert.That(e.TryGetProperty(field, out _)).IsTrue().Because(field);
        var eventIds = items.Select(e => e.GetProperty("id").GetInt64()).ToList();
        await Assert.That(eventIds.SequenceEqual(eventIds.Order()) && eventIds.Distinct().Count() == eventIds.Count).IsTrue();

        var (_, tail) = await client.GetJsonAsync($"/api/v1/curl/jobs/{id}/events?after={eventIds[^2]}");
        await Assert.That(tail.GetProperty("items").GetArrayLength()).IsEqualTo(1);
        await Assert.That(tail.GetProperty("items")[0].GetProperty("id").GetInt64()).IsEqualTo(eventIds[^1]);
        var (_, nothing) = await client.GetJsonAsync($"/api/v1/curl/jobs/{id}/events?after={eventIds[^1]}");
        await Assert.That(nothing.GetProperty("items").GetArrayLength()).IsEqualTo(0);

        using var rerunResponse = await client.PostAsync($"/api/v1/curl/jobs/{id}/rerun", null);
        await Assert.That((int)rerunResponse.StatusCode).IsEqualTo(202);
        var rerun = await Api.ReadJsonAsync(rerunResponse);
        var rerunId = rerun.GetProperty("id").GetString()!;
        await Assert.That(rerunId).IsNotEqualTo(id);
        await Assert.That(rerun.GetProperty("original_job_id").GetString()).IsEqualTo(id);
        await Assert.That(rerun.GetProperty("status").GetString()).IsIn("pending", "running");
        var rerunDone = await JobsApi.WaitAsync(client, rerunId);
        await Assert.That(rerunDone.Status()).IsEqualTo("completed");
        await Assert.That(rerunDone.GetProperty("name").GetString()).IsEqualTo("ev");
        var (_, a, _) = await JobsApi.ResultDigestAsync(client, id);
        var (_, b, _) = await JobsApi.ResultDigestAsync(client, rerunId);
        await Assert.That(b).IsEqualTo(a);
        await Assert.That(a).IsEqualTo(JobsApi.Sha256(JobsApi.SlowBody(204800)));
    }

    [Test]
    public async Task Result_relays_the_stored_status_and_headers()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var id = await JobsApi.SubmitAsync(client, upstream.Url("/status/418"));
        var job = await JobsApi.WaitAsync(client, id);
        await Assert.That(job.Status()).IsEqualTo("completed"); // any HTTP status completes (rest.md §4.5)
        await Assert.That(job.GetProperty("response").GetProperty("status_code").GetInt32()).IsEqualTo(418);
        using var response = await client.GetAsync($"/api/v1/curl/jobs/{id}/result");
        await Assert.That((int)response.StatusCode).IsEqualTo(418);
        await Assert.That(await response.Content.ReadAsStringAsync()).IsEqualTo("status 418");
        await Assert.That(response.Content.Headers.ContentType!.MediaType).IsEqualTo("text/plain");
        await Assert.That(response.Content.Headers.ContentLength).IsEqualTo(10);
    }
}
