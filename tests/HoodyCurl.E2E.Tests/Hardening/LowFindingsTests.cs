// Issue 16 items 6 and 8–12: field caps, schedule caps, session ids "." and "..", upstream answers that
// are not HTTP, symlinks planted among job bodies, and what an SSRF-refused async submit leaves behind.
using System.Diagnostics;
using System.Text;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Jobs;

namespace HoodyCurl.E2E.Tests.Hardening;

[ClassDataSource<SharedEnvironment>(Shared = SharedType.PerTestSession)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // file modes, symlinks
public class LowFindingsTests(SharedEnvironment env)
{
    private const string RequestPath = "/api/v1/curl/request";

    [Test]
    [Arguments(".")]
    [Arguments("..")]
    public async Task Session_ids_dot_and_dot_dot_are_refused(string id)
    {
        var url = env.Upstream.Url("/echo");
        var (status, body) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"session_id\":\"{id}\"}}");
        await Assert.That(status).IsEqualTo(400).Because(body.ToString());
        await Assert.That(body.GetProperty("message").GetString()!).Contains("'session_id'");
        var (bridgeStatus, _) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}&session_id={Api.Q(id)}");
        await Assert.That(bridgeStatus).IsEqualTo(400);
        var (asyncStatus, _) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"mode\":\"async\",\"session_id\":\"{id}\"}}");
        await Assert.That(asyncStatus).IsEqualTo(400);
        // "..." is an ordinary id.
        var (okStatus, okBody) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"response\":\"json\",\"session_id\":\"...{Guid.NewGuid():N}\"}}");
        await Assert.That(okStatus).IsEqualTo(200).Because(okBody.ToString());
    }

    [Test]
    public async Task Job_and_schedule_names_are_capped_at_256_characters()
    {
        var url = env.Upstream.Url("/echo");
        var longName = new string('n', 257);
        var (status, body) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"mode\":\"async\",\"job_name\":\"{longName}\"}}");
        await Assert.That(status).IsEqualTo(400).Because(body.ToString());
        await Assert.That(body.GetProperty("message").GetString()!).Contains("'job_name'");
        var (bridgeStatus, _) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}&mode=async&job_name={longName}");
        await Assert.That(bridgeStatus).IsEqualTo(400);
        var (megaStatus, _) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"mode\":\"async\",\"job_name\":\"{new string('n', 1 << 20)}\"}}");
        await Assert.That(megaStatus).IsEqualTo(400);
        var (scheduleStatus, scheduleBody) = await env.Client.PostJsonAsync("/api/v1/curl/schedule",
            $"{{\"cron\":\"@daily\",\"enabled\":false,\"name\":\"{longName}\",\"request\":{{\"url\":\"{url}\"}}}}");
        await Assert.That(scheduleStatus).IsEqualTo(400).Because(scheduleBody.ToString());
        var (okStatus, okBody) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{url}\",\"mode\":\"async\",\"job_name\":\"{new string('n', 256)}\"}}");
        await Assert.That(okStatus).IsEqualTo(202).Because(okBody.ToString());
    }

    [Test]
    public async Task Schedules_are_capped_in_number_and_in_how_often_they_fire()
    {
        await using var sidecar = await Sidecar.StartAsync("--max-schedules", "2", "--min-schedule-interval-secs", "5");
        var url = env.Upstream.Url("/echo");
        string Body(string cron) => $"{{\"cron\":\"{cron}\",\"enabled\":false,\"request\":{{\"url\":\"{url}\"}}}}";
        foreach (var tooOften in new[] { "* * * * * *", "*/2 * * * * *", "0,1 * * * * *" })
        {
            var (status, body) = await sidecar.Client.PostJsonAsync("/api/v1/curl/schedule", Body(tooOften));
            await Assert.That(status).IsEqualTo(400).Because($"{tooOften}: {body}");
            await Assert.That(body.GetProperty("message").GetString()!).Contains("--min-schedule-interval-secs");
        }
        var (first, firstBody) = await sidecar.Client.PostJsonAsync("/api/v1/curl/schedule", Body("*/5 * * * * *"));
        await Assert.That(first).IsEqualTo(201).Because(firstBody.ToString());
        var (second, _) = await sidecar.Client.PostJsonAsync("/api/v1/curl/schedule", Body("@hourly"));
        await Assert.That(second).IsEqualTo(201);
        var (third, thirdBody) = await sidecar.Client.PostJsonAsync("/api/v1/curl/schedule", Body("@daily"));
        await Assert.That(third).IsEqualTo(409).Because(thirdBody.ToString());
        await Assert.That(thirdBody.GetProperty("code").GetString()).IsEqualTo("TOO_MANY_SCHEDULES");
        // Deleting one makes room again.
        using (await sidecar.Client.DeleteAsync($"/api/v1/curl/schedule/{firstBody.GetProperty("id").GetString()}")) { }
        var (again, againBody) = await sidecar.Client.PostJsonAsync("/api/v1/curl/schedule", Body("@daily"));
        await Assert.That(again).IsEqualTo(201).Because(againBody.ToString());
        // The default minimum of 1 s still takes an every-second schedule.
        var (everySecond, everySecondBody) = await env.Client.PostJsonAsync("/api/v1/curl/schedule", Body("* * * * * *"));
        await Assert.That(everySecond).IsEqualTo(201).Because(everySecondBody.ToString());
        using (await env.Client.DeleteAsync($"/api/v1/curl/schedule/{everySecondBody.GetProperty("id").GetString()}")) { }
    }

    [Test]
    [Arguments("/101", "101 Switching Protocols")]
    [Arguments("/http09", "not a valid HTTP")]
    [Arguments("/status000", "")]
    public async Task Answers_that_are_not_http_are_502_and_never_an_ssrf_denial(string path, string fragment)
    {
        await using var upstream = RawUpstream.Start(async (request, stream) =>
        {
            var answer = request.Target switch
            {
                "/101" => "HTTP/1.1 101 Switching Protocols\r\nUpgrade: raw\r\nConnection: Upgrade\r\n\r\nraw protocol bytes",
                "/http09" => "hello from 1991\n",
                _ => "HTTP/1.1 000 Nothing\r\nContent-Length: 2\r\n\r\nok",
            };
            await stream.WriteAsync(Encoding.ASCII.GetBytes(answer));
            await stream.FlushAsync();
            stream.Close();
        });
        foreach (var mode in new[] { "json", "transparent" })
        {
            var (status, body) = await env.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"{upstream.Url(path)}\",\"response\":\"{mode}\"}}");
            await Assert.That(status).IsEqualTo(502).Because($"{mode}: {body}");
            await Assert.That(body.GetProperty("code").GetString()).IsEqualTo("UPSTREAM_ERROR");
            await Assert.That(body.GetProperty("message").GetString()!).Contains(fragment);
        }
    }

    [Test]
    public async Task A_symlink_planted_among_job_bodies_is_never_followed()
    {
        await using var sidecar = await Sidecar.StartAsync();
        var secretDir = Directory.CreateTempSubdirectory("hoody-secret-").FullName;
        try
        {
            var secret = Path.Combine(secretDir, "body");
            await File.WriteAllTextAsync(secret, "TOP-SECRET-OUTSIDE-STORAGE");
            var id = await JobsApi.SubmitAsync(sidecar.Client, env.Upstream.Url("/bytes/64"));
            var job = await JobsApi.WaitAsync(sidecar.Client, id);
            await Assert.That(job.Status()).IsEqualTo("completed");
            var body = Path.Combine(sidecar.StorageDir, "jobs", id, "body");
            await Assert.That(File.Exists(body)).IsTrue();

            // 1. The body replaced by a symlink to a file outside the storage folder.
            File.Delete(body);
            File.CreateSymbolicLink(body, secret);
            await AssertNoLeak(sidecar, id);

            // 2. The job's folder replaced by a symlink to a folder outside that holds a "body".
            Directory.Delete(Path.Combine(sidecar.StorageDir, "jobs", id), recursive: true);
            Directory.CreateSymbolicLink(Path.Combine(sidecar.StorageDir, "jobs", id), secretDir);
            await AssertNoLeak(sidecar, id);
        }
        finally
        {
            Directory.Delete(secretDir, recursive: true);
        }

        static async Task AssertNoLeak(Sidecar sidecar, string id)
        {
            using var result = await sidecar.Client.GetAsync($"/api/v1/curl/jobs/{id}/result");
            var text = await result.Content.ReadAsStringAsync();
            await Assert.That(text).DoesNotContain("TOP-SECRET");
            await Assert.That((int)result.StatusCode).IsEqualTo(500);
            var record = await JobsApi.GetAsync(sidecar.Client, id);
            var bytes = record.GetProperty("response").GetProperty("body").EnumerateArray().Select(e => (byte)e.GetInt32()).ToArray();
            await Assert.That(Encoding.ASCII.GetString(bytes)).DoesNotContain("TOP-SECRET");
        }
    }

    [Test]
    public async Task An_ssrf_refused_async_submit_is_logged_and_the_storage_folder_is_owner_only()
    {
        var parent = Directory.CreateTempSubdirectory("hoody-e2e-parent-").FullName;
        var storage = Path.Combine(parent, "fresh-storage");
        try
        {
            await using var sidecar = await Sidecar.StartInAsync(storage);
            await Assert.That(File.GetUnixFileMode(storage)).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            var host = $"10.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}";
            var (status, body) = await sidecar.Client.PostJsonAsync(RequestPath, $"{{\"url\":\"http://{host}:81/x\",\"mode\":\"async\"}}");
            await Assert.That(status).IsEqualTo(403).Because(body.ToString());
            var clock = Stopwatch.StartNew();
            while (!sidecar.Output.Contains($"http://{host}:81", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(10))
                await Task.Delay(50);
            var line = sidecar.Output.Split('\n').FirstOrDefault(l => l.Contains($"http://{host}:81", StringComparison.Ordinal));
            await Assert.That(line).IsNotNull().Because(sidecar.Output);
            await Assert.That(line!).Contains("denied by the SSRF guard");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }
}
