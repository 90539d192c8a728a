// Issue 14 acceptance: links, their use counts and history survive kill -9 and restart. An opening a
// crash cut short keeps its use counted and its history entry says INTERRUPTED.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Links;

public class LinkRestartTests
{
    [Test]
    public async Task Links_use_counts_and_history_survive_kill_9()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        using var anonymous = LinksApi.Anonymous();
        var (counted, countedPath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/status/201"),
            ",\"bearer_token\":\"kept-across-restarts\"", ",\"max_uses\":4,\"name\":\"four\""));
        var (revoked, revokedPath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url("/status/200")));
        var trace = Guid.NewGuid().ToString("N");
        var (slow, slowPath, _) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url($"/delay/30000?trace={trace}")));
        for (var i = 0; i < 2; i++)
        {
            using var ok = await anonymous.GetAsync(sidecar.BaseUrl + countedPath);
            await Assert.That((int)ok.StatusCode).IsEqualTo(201);
        }
        using (var delete = await client.DeleteAsync($"{LinksApi.Path}/{revoked}"))
            await Assert.That((int)delete.StatusCode).IsEqualTo(200);

        // Both openings of `counted` are recorded as finished before the kill (the door records an opening just after
        // its answer went out), so only the slow one below can be interrupted.
        await Assert.That((await LinksApi.FinishedHistoryAsync(client, counted)).Count).IsEqualTo(2);

        // An opening in flight when the process dies.
        var inFlight = anonymous.GetAsync(sidecar.BaseUrl + slowPath);
        await upstream.Trace(trace).Started.WaitAsync(TimeSpan.FromSeconds(20));
        await sidecar.KillAsync();
        try { (await inFlight).Dispose(); } catch (HttpRequestException) { } // the connection died with the process
        await sidecar.RestartAsync();

        var record = await LinksApi.GetAsync(client, counted);
        await Assert.That(record.GetProperty("use_count").GetInt64()).IsEqualTo(2);
        await Assert.That(record.GetProperty("name").GetString()).IsEqualTo("four");
        await Assert.That(record.GetProperty("request").GetProperty("bearer_token").GetString()).IsEqualTo("***");
        var history = await LinksApi.FinishedHistoryAsync(client, counted);
        await Assert.That(history.Count).IsEqualTo(2);
        foreach (var e in history) await Assert.That(e.GetProperty("status").GetInt32()).IsEqualTo(201);
        var interrupted = (await LinksApi.HistoryAsync(client, slow)).Single();
        await Assert.That(interrupted.GetProperty("error").GetString()).IsEqualTo("INTERRUPTED");
        await Assert.That(interrupted.GetProperty("status").ValueKind).IsEqualTo(System.Text.Json.JsonValueKind.Null);
        await Assert.That((await LinksApi.GetAsync(client, slow)).GetProperty("use_count").GetInt64()).IsEqualTo(1);

        // The same tokens still work, the count goes on from 2 to the limit, the revoked one stays gone.
        for (var i = 0; i < 2; i++)
        {
            using var ok = await anonymous.GetAsync(sidecar.BaseUrl + countedPath);
            await Assert.That((int)ok.StatusCode).IsEqualTo(201);
        }
        using (var fifth = await anonymous.GetAsync(sidecar.BaseUrl + countedPath))
            await Assert.That((int)fifth.StatusCode).IsEqualTo(410);
        using (var stillGone = await anonymous.GetAsync(sidecar.BaseUrl + revokedPath))
            await Assert.That((int)stillGone.StatusCode).IsEqualTo(404);
        await Assert.That((await LinksApi.HistoryAsync(client, counted)).Count).IsEqualTo(4);
        var (_, list) = await client.GetJsonAsync(LinksApi.Path);
        await Assert.That(list.GetProperty("meta").GetProperty("total").GetInt64()).IsEqualTo(3);
        await Assert.That(await Jobs.JobsApi.IntegrityCheckAsync(Path.Combine(sidecar.StorageDir, "hoody-curl.db"))).IsEqualTo("ok");
    }
}
