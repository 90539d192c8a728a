// 50 async jobs against a slow upstream all complete; /result returns every body byte-exact; the
// list pages newest first with has_more and filters by status and name.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Jobs;

public class JobFanOutTests
{
    [Test]
    public async Task Fifty_jobs_complete_with_byte_exact_results_and_the_list_pages_and_filters()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-concurrent-jobs", "8");
        var client = sidecar.Client;

        var expected = new Dictionary<string, string>();
        var ids = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            string url, sha;
            if (i % 2 == 0)
            {
                var n = 2000 + i * 37; // ~4 chunks 100 ms apart: a delaying upstream
                url = upstream.Url($"/slow/{n}?chunk={n / 4 + 1}&interval_ms=100");
                sha = JobsApi.Sha256(JobsApi.SlowBody(n));
            }
            else
            {
                var n = 50_000 + i * 1000;
                url = upstream.Url($"/bytes/{n}?seed={i}");
                sha = Payload.Sha256Hex(n, i);
            }
            var name = i < 20 ? "fan-a" : "fan-b";
            var id = await JobsApi.SubmitAsync(client, url, $",\"job_name\":\"{name}\"");
            expected[id] = sha;
            ids.Add(id);
        }

        foreach (var id in ids)
        {
            var job = await JobsApi.WaitAsync(client, id);
            await Assert.That(job.Status()).IsEqualTo("completed");
            await Assert.That(job.GetProperty("response").GetProperty("status_code").GetInt32()).IsEqualTo(200);
            await Assert.That(job.GetProperty("retry_attempts").GetInt32()).IsEqualTo(1);
            var (status, sha, _) = await JobsApi.ResultDigestAsync(client, id);
            await Assert.That(status).IsEqualTo(200);
            await Assert.That(sha).IsEqualTo(expected[id]);
        }

        // Inline body: the whole body as byte values (all are under the 1 MiB default).
        var first = await JobsApi.GetAsync(client, ids[0]);
        var bodyArray = first.GetProperty("response").GetProperty("body");
        await Assert.That(bodyArray.GetArrayLength()).IsEqualTo(2000);
        await Assert.That(bodyArray[0].GetInt32()).IsEqualTo('a');
        await Assert.That(first.GetProperty("response").GetProperty("body_truncated").GetBoolean()).IsFalse();

        // Pages of 20, newest first.
        ids.Reverse();
        var seen = new List<string>();
        for (var page = 1; page <= 3; page++)
        {
            var (status, list) = await client.GetJsonAsync($"/api/v1/curl/jobs?page={page}&limit=20");
            await Assert.That(status).IsEqualTo(200);
            await Assert.That(list.GetProperty("meta").GetProperty("total").GetInt32()).IsEqualTo(50);
            await Assert.That(list.GetProperty("meta").GetProperty("page").GetInt32()).IsEqualTo(page);
            await Assert.That(list.GetProperty("meta").GetProperty("limit").GetInt32()).IsEqualTo(20);
            await Assert.That(list.GetProperty("has_more").GetBoolean()).IsEqualTo(page < 3);
            seen.AddRange(list.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetString()!));
        }
        await Assert.That(string.Join(",", seen)).IsEqualTo(string.Join(",", ids));
        var (_, everything) = await client.GetJsonAsync("/api/v1/curl/jobs");
        await Assert.That(everything.GetProperty("items").GetArrayLength()).IsEqualTo(50);
        await Assert.That(everything.GetProperty("has_more").GetBoolean()).IsFalse();
        var item = everything.GetProperty("items")[0];
        foreach (var field in new[] { "id", "name", "method", "url", "status", "created_at", "completed_at" })
            await Assert.That(item.TryGetProperty(field, out _)).IsTrue().Because(field);

        var (_, byName) = await client.GetJsonAsync("/api/v1/curl/jobs?name=fan-a&limit=15");
        await Assert.That(byName.GetProperty("meta").GetProperty("total").GetInt32()).IsEqualTo(20);
        await Assert.That(byName.GetProperty("items").GetArrayLength()).IsEqualTo(15);
        await Assert.That(byName.GetProperty("has_more").GetBoolean()).IsTrue();
        await Assert.That(byName.GetProperty("items").EnumerateArray().All(j => j.GetProperty("name").GetString() == "fan-a")).IsTrue();
        var (_, completed) = await client.GetJsonAsync("/api/v1/curl/jobs?status=completed&limit=1000");
        await Assert.That(completed.GetProperty("meta").GetProperty("total").GetInt32()).IsEqualTo(50);
        var (_, none) = await client.GetJsonAsync("/api/v1/curl/jobs?status=failed,cancelled");
        await Assert.That(none.GetProperty("meta").GetProperty("total").GetInt32()).IsEqualTo(0);
        var (_, past) = await client.GetJsonAsync("/api/v1/curl/jobs?page=9&limit=20");
        await Assert.That(past.GetProperty("items").GetArrayLength()).IsEqualTo(0);
        await Assert.That(past.GetProperty("has_more").GetBoolean()).IsFalse();

        foreach (var bad in new[] { "page=0", "limit=0", "limit=abc", "page=-1", "status=done" })
        {
            var (status, error) = await client.GetJsonAsync($"/api/v1/curl/jobs?{bad}");
            await Assert.That(status).IsEqualTo(400).Because(bad);
            await Assert.That(error.GetProperty("error").GetString()).IsEqualTo("VALIDATION_ERROR");
        }
        var (capped, cappedList) = await client.GetJsonAsync("/api/v1/curl/jobs?limit=5000");
        await Assert.That(capped).IsEqualTo(200);
        await Assert.That(cappedList.GetProperty("meta").GetProperty("limit").GetInt32()).IsEqualTo(1000);

        // The metrics count them.
        var metrics = await client.GetStringAsync("/metrics");
        await Assert.That(metrics).Contains("hoody_curl_jobs_total{status=\"completed\"} 50");
        await Assert.That(metrics).Contains("hoody_curl_job_duration_seconds_count{status=\"completed\"} 50");
    }

    [Test]
    public async Task Unknown_jobs_answer_404_in_the_contract_shape()
    {
        await using var sidecar = await Sidecar.StartAsync();
        var id = Guid.CreateVersion7().ToString();
        foreach (var (method, path) in new[]
                 {
                     ("GET", $"/api/v1/curl/jobs/{id}"), ("GET", $"/api/v1/curl/jobs/{id}/result"), ("GET", $"/api/v1/curl/jobs/{id}/events"),
                     ("DELETE", $"/api/v1/curl/jobs/{id}"), ("POST", $"/api/v1/curl/jobs/{id}/cancel"), ("POST", $"/api/v1/curl/jobs/{id}/rerun"),
                     ("GET", "/api/v1/curl/jobs/not-a-uuid"),
                 })
        {
            using var response = await sidecar.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            var json = await Api.ReadJsonAsync(response);
            await Assert.That((int)response.StatusCode).IsEqualTo(404).Because(path);
            await Assert.That(json.GetProperty("error").GetString()).IsEqualTo("JOB_NOT_FOUND");
            await Assert.That(json.GetProperty("message").GetString()).IsEqualTo("Job not found");
        }
    }
}
