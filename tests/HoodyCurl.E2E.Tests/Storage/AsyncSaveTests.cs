// save:true on an async job files the finished body under downloads/ with its three index paths.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Jobs;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Storage;

public class AsyncSaveTests
{
    [Test]
    public async Task Async_job_with_save_stores_the_body_under_three_paths()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var id = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/bytes/5000?seed=9"), ",\"save\":true,\"save_path\":\"reports/r.bin\"");
        var job = await JobsApi.WaitAsync(sidecar.Client, id);
        await Assert.That(job.Status()).IsEqualTo("completed");

        var (status, list) = await sidecar.Client.GetJsonAsync("/api/v1/curl/storage");
        await Assert.That(status).IsEqualTo(200);
        var paths = list.GetProperty("items").EnumerateArray()
            .Where(i => i.GetProperty("job_id").GetString() == id).Select(i => i.GetProperty("path").GetString()!).ToList();
        await Assert.That(paths.Count).IsEqualTo(3);
        await Assert.That(paths).Contains($"by-job/{id}/reports/r.bin");

        var bytes = await sidecar.Client.GetByteArrayAsync($"/api/v1/curl/storage/by-job/{id}/reports/r.bin");
        await Assert.That(JobsApi.Sha256(bytes)).IsEqualTo(Payload.Sha256Hex(5000, 9));
        // The job's own result is still there and independent of the saved copy.
        var (_, sha, length) = await JobsApi.ResultDigestAsync(sidecar.Client, id);
        await Assert.That(length).IsEqualTo(5000);
        await Assert.That(sha).IsEqualTo(Payload.Sha256Hex(5000, 9));
    }
}
