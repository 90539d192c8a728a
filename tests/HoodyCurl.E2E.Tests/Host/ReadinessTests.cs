// Issue 12 §3: /health `ready` is true only once libcurl, the database, the job workers and the scheduler
// are up; `/health?ready=1` is the readiness probe (503 while not ready).
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Host;

public class ReadinessTests
{
    [Test]
    public async Task A_started_sidecar_is_ready_and_the_probe_answers_200()
    {
        await using var sidecar = await Sidecar.StartAsync();
        foreach (var path in new[] { "/health?ready=1", "/api/v1/curl/health?ready=1", "/health" })
        {
            using var response = await sidecar.Client.GetAsync(path);
            await Assert.That((int)response.StatusCode).IsEqualTo(200);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            await Assert.That(body.RootElement.GetProperty("ready").GetBoolean()).IsTrue();
        }
        // The workers and the scheduler really run: an async job completes.
        await using var upstream = await HoodyCurl.TestUpstream.TestUpstreamServer.StartAsync();
        var id = await HoodyCurl.E2E.Tests.Jobs.JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/status/200"));
        var job = await HoodyCurl.E2E.Tests.Jobs.JobsApi.WaitAsync(sidecar.Client, id);
        await Assert.That(job.GetProperty("status").GetString()).IsEqualTo("completed");
    }
}
