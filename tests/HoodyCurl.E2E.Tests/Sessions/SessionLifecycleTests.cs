// Sessions against the published binary (issue 5 acceptance): a login flow whose cookie is replayed,
// listed, survives a restart, and is tombstoned by delete (404 with the exact message) until the
// tombstone expires; 20 concurrent requests on one session lose no cookie; the list pages.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;
using static HoodyCurl.E2E.Tests.Sessions.SessionsApi;

namespace HoodyCurl.E2E.Tests.Sessions;

public class SessionLifecycleTests
{
    [Test]
    public async Task Login_flow_is_replayed_listed_survives_restart_and_delete_tombstones()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        const string id = "alice@app:1";

        var login = await EnvelopeAsync(client, upstream.Url("/login?user=alice"), id);
        await Assert.That(login.UpstreamJson().GetProperty("logged_in").GetBoolean()).IsTrue();
        var authorised = await EnvelopeAsync(client, upstream.Url("/private"), id);
        await Assert.That(authorised.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(authorised.UpstreamJson().GetProperty("user").GetString()).IsEqualTo("alice");
        var anonymous = await EnvelopeAsync(client, upstream.Url("/private"), null);
        await Assert.That(anonymous.GetProperty("status_code").GetInt32()).IsEqualTo(401);
        // The GET bridge carries session_id too.
        var (bridgeStatus, bridge) = await client.GetJsonAsync($"/api/v1/curl/request?url={Q(upstream.Url("/private"))}&session_id={Q(id)}");
        await Assert.That(bridgeStatus).IsEqualTo(200);
        await Assert.That(bridge.GetProperty("status_code").GetInt32()).IsEqualTo(200);

        var session = await SessionAsync(client, id);
        await Assert.That(session.GetProperty("id").GetString()).IsEqualTo(id);
        var token = session.GetProperty("cookies").GetProperty("session").GetString()!;
        await Assert.That(token.Length).IsEqualTo(32);
        var scoped = session.Scoped("session")!.Value;
        await Assert.That(scoped.GetProperty("domain").GetString()).IsEqualTo("127.0.0.1");
        await Assert.That(scoped.GetProperty("path").GetString()).IsEqualTo("/");
        await Assert.That(scoped.GetProperty("host_only").GetBoolean()).IsTrue();
        await Assert.That(scoped.GetProperty("secure").GetBoolean()).IsFalse();
        await Assert.That(scoped.GetProperty("http_only").GetBoolean()).IsTrue();
        await Assert.That(DateTimeOffset.Parse(session.GetProperty("created_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture))
            .IsLessThanOrEqualTo(DateTimeOffset.Parse(session.GetProperty("last_used").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        await Assert.That(await SnapshotAsync(client, id)).IsEquivalentTo(new Dictionary<string, string> { ["session"] = token });
        var (listStatus, list) = await client.GetJsonAsync("/api/v1/curl/sessions");
        await Assert.That(listStatus).IsEqualTo(200);
        await Assert.That(list.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToArray()).IsEquivalentTo([id]);
        await Assert.That(list.GetProperty("has_more").GetBoolean()).IsFalse();

        await sidecar.RestartAsync();
        await Assert.That((await SnapshotAsync(client, id))["session"]).IsEqualTo(token);
        var afterRestart = await EnvelopeAsync(client, upstream.Url("/private"), id);
        await Assert.That(afterRestart.GetProperty("status_code").GetInt32()).IsEqualTo(200);

        using (var delete = await client.DeleteAsync($"/api/v1/curl/sessions/{Q(id)}"))
        {
            await Assert.That((int)delete.StatusCode).IsEqualTo(200);
            var body = await Api.ReadJsonAsync(delete);
            await Assert.That(body.GetProperty("message").GetString()).IsEqualTo("Session deleted");
            await Assert.That(body.GetProperty("id").GetString()).IsEqualTo(id);
        }
        var expected = $"Session not found: {id} (tombstoned)";
        foreach (var path in new[] { $"/api/v1/curl/sessions/{Q(id)}", $"/api/v1/curl/sessions/{Q(id)}/cookies" })
        {
            var (status, error) = await client.GetJsonAsync(path);
            await AssertTombstoned(status, error, expected);
        }
        var (syncStatus, syncError) = await RequestAsync(client, upstream.Url("/private"), id);
        await AssertTombstoned(syncStatus, syncError, expected);
        var (asyncStatus, asyncError) = await RequestAsync(client, upstream.Url("/private"), id, ",\"mode\":\"async\"");
        await AssertTombstoned(asyncStatus, asyncError, expected);
        var (bridgeGoneStatus, bridgeGone) = await client.GetJsonAsync($"/api/v1/curl/request?url={Q(upstream.Url("/private"))}&session_id={Q(id)}");
        await AssertTombstoned(bridgeGoneStatus, bridgeGone, expected);
        using (var again = await client.DeleteAsync($"/api/v1/curl/sessions/{Q(id)}"))
            await AssertTombstoned((int)again.StatusCode, await Api.ReadJsonAsync(again), expected);

        // Still tombstoned after a restart; unknown ids are plain 404s; bad ids are 400.
        await sidecar.RestartAsync();
        var (restartedStatus, restartedError) = await RequestAsync(client, upstream.Url("/private"), id);
        await AssertTombstoned(restartedStatus, restartedError, expected);
        var (unknownStatus, unknown) = await client.GetJsonAsync("/api/v1/curl/sessions/never-seen");
        await Assert.That(unknownStatus).IsEqualTo(404);
        await Assert.That(unknown.GetProperty("message").GetString()).IsEqualTo("Session not found: never-seen");
        var (badStatus, bad) = await client.GetJsonAsync("/api/v1/curl/sessions/a%20b");
        await Assert.That(badStatus).IsEqualTo(400);
        await Assert.That(bad.GetProperty("code").GetString()).IsEqualTo("VALIDATION_ERROR");
        var (badRequestStatus, _) = await RequestAsync(client, upstream.Url("/private"), "has space");
        await Assert.That(badRequestStatus).IsEqualTo(400);
    }

    [Test]
    public async Task A_deleted_id_is_reusable_once_its_tombstone_expires()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--session-tombstone-secs", "1");
        var client = sidecar.Client;
        await EnvelopeAsync(client, upstream.Url("/login?user=bob"), "bob");
        using (var delete = await client.DeleteAsync("/api/v1/curl/sessions/bob"))
            await Assert.That((int)delete.StatusCode).IsEqualTo(200);
        var (status, error) = await RequestAsync(client, upstream.Url("/private"), "bob");
        await AssertTombstoned(status, error, "Session not found: bob (tombstoned)");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonElement envelope;
        while (true)
        {
            (status, envelope) = await RequestAsync(client, upstream.Url("/private"), "bob");
            if (status == 200 || DateTime.UtcNow > deadline) break;
            await Task.Delay(100);
        }
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(envelope.GetProperty("status_code").GetInt32()).IsEqualTo(401); // a new, empty jar
        await Assert.That((await SnapshotAsync(client, "bob")).Count).IsEqualTo(0);
        await EnvelopeAsync(client, upstream.Url("/login?user=bob"), "bob");
        await Assert.That((await EnvelopeAsync(client, upstream.Url("/private"), "bob")).GetProperty("status_code").GetInt32()).IsEqualTo(200);
    }

    [Test]
    public async Task Twenty_concurrent_requests_on_one_session_lose_no_cookie()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        const int count = 20;
        var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
        {
            // Half json, half transparent: both doors take the same lease.
            var url = upstream.Url($"/cookies/set-raw?header={Q($"c{i}=v{i}; Path=/")}");
            var mode = i % 2 == 0 ? "json" : "transparent";
            return client.PostJsonAsync("/api/v1/curl/request",
                $"{{\"url\":\"{JsonEncodedText.Encode(url)}\",\"session_id\":\"busy\",\"response\":\"{mode}\"}}");
        }));
        foreach (var (status, _) in results) await Assert.That(status).IsEqualTo(200);

        var expected = Enumerable.Range(0, count).ToDictionary(i => $"c{i}", i => $"v{i}");
        await Assert.That(await SentCookiesAsync(client, upstream.Url("/cookies"), "busy")).IsEquivalentTo(expected);
        await Assert.That(await SnapshotAsync(client, "busy")).IsEquivalentTo(expected);
    }

    [Test]
    public async Task Async_jobs_use_and_update_the_jar()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var login = await Jobs.JobsApi.SubmitAsync(client, upstream.Url("/login?user=carol"), ",\"session_id\":\"carol\"");
        await Assert.That((await Jobs.JobsApi.WaitAsync(client, login)).GetProperty("status").GetString()).IsEqualTo("completed");
        await Assert.That((await SnapshotAsync(client, "carol")).ContainsKey("session")).IsTrue();
        var check = await Jobs.JobsApi.SubmitAsync(client, upstream.Url("/private"), ",\"session_id\":\"carol\"");
        var job = await Jobs.JobsApi.WaitAsync(client, check);
        await Assert.That(job.GetProperty("response").GetProperty("status_code").GetInt32()).IsEqualTo(200);
    }

    [Test]
    public async Task The_session_list_pages_in_creation_order()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        foreach (var id in new[] { "s-c", "s-a", "s-b" }) await EnvelopeAsync(client, upstream.Url("/cookies"), id);

        var (_, first) = await client.GetJsonAsync("/api/v1/curl/sessions?limit=2");
        await Assert.That(first.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToArray())
            .IsEquivalentTo(["s-c", "s-a"], TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(first.GetProperty("meta").GetProperty("total").GetInt32()).IsEqualTo(3);
        await Assert.That(first.GetProperty("meta").GetProperty("limit").GetInt32()).IsEqualTo(2);
        await Assert.That(first.GetProperty("has_more").GetBoolean()).IsTrue();
        var (_, second) = await client.GetJsonAsync("/api/v1/curl/sessions?limit=2&page=2");
        await Assert.That(second.GetProperty("items").GetArrayLength()).IsEqualTo(1);
        await Assert.That(second.GetProperty("has_more").GetBoolean()).IsFalse();
        var (_, capped) = await client.GetJsonAsync("/api/v1/curl/sessions?limit=5000");
        await Assert.That(capped.GetProperty("meta").GetProperty("limit").GetInt32()).IsEqualTo(1000);
        var (_, all) = await client.GetJsonAsync("/api/v1/curl/sessions");
        await Assert.That(all.GetProperty("meta").GetProperty("limit").GetInt32()).IsEqualTo(3);
        foreach (var bad in new[] { "page=0", "limit=0", "limit=-1", "page=x", "limit=1.5" })
        {
            var (status, error) = await client.GetJsonAsync("/api/v1/curl/sessions?" + bad);
            await Assert.That(status).IsEqualTo(400);
            await Assert.That(error.GetProperty("code").GetString()).IsEqualTo("VALIDATION_ERROR");
        }
    }

    private static async Task AssertTombstoned(int status, JsonElement error, string message)
    {
        await Assert.That(status).IsEqualTo(404);
        await Assert.That(error.GetProperty("error").GetString()).IsEqualTo("SESSION_NOT_FOUND");
        await Assert.That(error.GetProperty("message").GetString()).IsEqualTo(message);
    }
}
