// The answers a new user meets in the first hour (issue 15, items 4-10): international host names,
// localhost under --allow-cidr, what json mode says about a decoded body, the result of a job that
// will never have one, the router's own answers, messages a user can act on, and where an async save went.
using System.Net;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Jobs;
using HoodyCurl.E2E.Tests.Scheduling;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Operator;

public class FirstHourTests
{
    [Test]
    public async Task International_host_names_reach_the_upstream_as_punycode()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        var port = new Uri(upstream.BaseUrl).Port;
        await using var sidecar = await Sidecar.StartAsync("--allow-cidr", "127.0.0.1/32", "--resolve", $"xn--bcher-kva.example:{port}:127.0.0.1");
        var (status, envelope) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q($"http://bücher.example:{port}/echo")}");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(envelope.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        using var echoed = JsonDocument.Parse(envelope.GetProperty("body").GetString()!);
        await Assert.That(echoed.RootElement.GetProperty("headers").GetProperty("host").GetString()).IsEqualTo($"xn--bcher-kva.example:{port}");

        // The guard judges the converted name: an IDN host pinned to a denied address is refused up front.
        await using var denied = await Sidecar.StartAsync("--allow-cidr", "127.0.0.1/32", "--resolve", $"xn--bcher-kva.example:{port}:127.0.0.2");
        var (refused, error) = await denied.Client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q($"http://BÜCHER.example:{port}/echo")}");
        await Assert.That(refused).IsEqualTo(403);
        await Assert.That(error.GetProperty("error").GetString()).IsEqualTo("SSRF_BLOCKED");
    }

    [Test]
    public async Task Localhost_is_judged_by_its_addresses_under_allow_cidr()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        var port = new Uri(upstream.BaseUrl).Port;
        var url = $"/api/v1/curl/request?url={Api.Q($"http://localhost:{port}/status/204")}";
        await using (var allowed = await Sidecar.StartAsync("--allow-cidr", "127.0.0.1/32"))
        {
            var (status, envelope) = await allowed.Client.GetJsonAsync(url);
            await Assert.That(status).IsEqualTo(200);
            await Assert.That(envelope.GetProperty("status_code").GetInt32()).IsEqualTo(204);
        }
        await using (var strict = await Sidecar.StartAsync("--no-default-allow"))
        {
            var (status, error) = await strict.Client.GetJsonAsync(url);
            await Assert.That(status).IsEqualTo(403);
            await Assert.That(error.GetProperty("error").GetString()).IsEqualTo("SSRF_BLOCKED");
        }
    }

    [Test]
    public async Task Json_mode_drops_content_encoding_when_it_decoded_the_body()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var url = JsonEncodedText.Encode(upstream.Url("/gzip")).ToString();
        var (status, decoded) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":\"{url}\",\"compressed\":true,\"response\":\"json\"}}");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(decoded.GetProperty("body").GetString()).Contains("gzipped");
        await Assert.That(decoded.GetProperty("headers").TryGetProperty("content-encoding", out _)).IsFalse();
        await Assert.That(decoded.GetProperty("raw_headers").EnumerateArray()
            .Any(h => h.GetProperty("name").GetString()!.Equals("content-encoding", StringComparison.OrdinalIgnoreCase))).IsFalse();

        // Not decoded (compressed: false): the header stays, it describes the body as sent.
        var (_, raw) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":\"{url}\",\"response\":\"json\"}}");
        await Assert.That(raw.GetProperty("headers").GetProperty("content-encoding").GetString()).IsEqualTo("gzip");

        // The same rule in an async job's record.
        var id = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/gzip"), ",\"compressed\":true");
        var job = await JobsApi.WaitAsync(sidecar.Client, id);
        await Assert.That(job.Status()).IsEqualTo("completed");
        await Assert.That(job.GetProperty("response").GetProperty("headers").TryGetProperty("content-encoding", out _)).IsFalse();
    }

    [Test]
    public async Task Result_of_a_failed_or_cancelled_job_says_stop_polling()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var failed = await JobsApi.SubmitAsync(sidecar.Client, $"http://127.0.0.1:{Sidecar.FreePort()}/nothing-listens-here");
        await Assert.That((await JobsApi.WaitAsync(sidecar.Client, failed)).Status()).IsEqualTo("failed");
        var (status, body) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/jobs/{failed}/result");
        await Assert.That(status).IsEqualTo(404);
        await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("JOB_HAS_NO_RESULT");
        await Assert.That(body.GetProperty("status").GetString()).IsEqualTo("failed");

        var cancelled = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/slow/300?chunk=10&interval_ms=1000"));
        using (await sidecar.Client.DeleteAsync($"/api/v1/curl/jobs/{cancelled}")) { }
        await Assert.That((await JobsApi.WaitAsync(sidecar.Client, cancelled)).Status()).IsEqualTo("cancelled");
        var (status2, body2) = await sidecar.Client.GetJsonAsync($"/api/v1/curl/jobs/{cancelled}/result");
        await Assert.That(status2).IsEqualTo(404);
        await Assert.That(body2.GetProperty("error").GetString()).IsEqualTo("JOB_HAS_NO_RESULT");
        await Assert.That(body2.GetProperty("status").GetString()).IsEqualTo("cancelled");
    }

    [Test]
    public async Task Router_answers_405_with_allow_json_404_everywhere_and_head_where_get()
    {
        await using var sidecar = await Sidecar.StartAsync();
        using (var response = await sidecar.Client.DeleteAsync("/health"))
        {
            await Assert.That((int)response.StatusCode).IsEqualTo(405);
            await Assert.That(response.Content.Headers.Allow).Contains("GET");
            await Assert.That(response.Content.Headers.Allow).Contains("HEAD");
            var body = await Api.ReadJsonAsync(response);
            await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("METHOD_NOT_ALLOWED");
        }
        using (var response = await sidecar.Client.PutAsync("/api/v1/curl/request", Api.Json("{}")))
        {
            await Assert.That((int)response.StatusCode).IsEqualTo(405);
            await Assert.That(response.Content.Headers.Allow).Contains("POST");
        }
        foreach (var path in new[] { "/favicon.ico", "/no/such/route", "/api/v1/curl/nothing.json" })
        {
            using var response = await sidecar.Client.GetAsync(path);
            await Assert.That((int)response.StatusCode).IsEqualTo(404);
            await Assert.That(response.Content.Headers.ContentType!.MediaType).IsEqualTo("application/json");
            var body = await Api.ReadJsonAsync(response);
            await Assert.That(body.GetProperty("error").GetString()).IsEqualTo("NOT_FOUND");
        }
        foreach (var path in new[] { "/health", "/api/v1/curl/health", "/metrics", "/api/v1/curl/jobs" })
        {
            using var head = await sidecar.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            await Assert.That((int)head.StatusCode).IsEqualTo(200);
            await Assert.That((await head.Content.ReadAsByteArrayAsync()).Length).IsEqualTo(0);
        }
    }

    [Test]
    public async Task Messages_say_where_and_what_and_never_show_server_paths()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var (status, body) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", "{\"url\": \"http://x/\",\n \"method\" \"GET\"}");
        await Assert.That(status).IsEqualTo(400);
        var message = body.GetProperty("message").GetString()!;
        await Assert.That(message).Contains("line 2, column");
        await Assert.That(message).Contains("expected ':' after a property name");
        await Assert.That(message).DoesNotContain("Expected");

        var (_, unclosed) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request", "{\"url\": \"http://x/\"");
        await Assert.That(unclosed.GetProperty("message").GetString()!).DoesNotContain("ZeroDepthAtEnd");
        await Assert.That(unclosed.GetProperty("message").GetString()!).Contains("'}' or ']' is missing");

        // A classic 5-field crontab line: the contract's message, plus a hint.
        var (cronStatus, cron) = await sidecar.Client.PostJsonAsync(SchedulesApi.Path,
            $"{{\"cron\":\"*/5 * * * *\",\"request\":{{\"url\":\"{upstream.Url("/echo")}\"}}}}");
        await Assert.That(cronStatus).IsEqualTo(400);
        await Assert.That(cron.GetProperty("error").GetString()).IsEqualTo("INVALID_CRON");
        await Assert.That(cron.GetProperty("message").GetString()).IsEqualTo("Invalid cron expression");
        await Assert.That(cron.GetProperty("hint").GetString()!).Contains("6 fields");

        // A storage failure (by-job/ replaced by a file) answers without the server's absolute path.
        var byJob = Path.Combine(sidecar.StorageDir, "downloads", "by-job");
        if (Directory.Exists(byJob)) Directory.Delete(byJob, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(byJob)!);
        await File.WriteAllTextAsync(byJob, "not a folder");
        var (saveStatus, saveError) = await sidecar.Client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{upstream.Url("/bytes/100")}\",\"save\":true}}");
        await Assert.That(saveStatus).IsEqualTo(500);
        await Assert.That(saveError.GetProperty("error").GetString()).IsEqualTo("STORAGE_ERROR");
        await Assert.That(saveError.GetProperty("message").GetString()!).DoesNotContain(sidecar.StorageDir);
    }

    [Test]
    public async Task Async_save_records_where_the_file_went()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var id = await JobsApi.SubmitAsync(sidecar.Client, upstream.Url("/bytes/5000?seed=3"), ",\"save\":true,\"save_path\":\"out/r.bin\"");
        var job = await JobsApi.WaitAsync(sidecar.Client, id);
        await Assert.That(job.Status()).IsEqualTo("completed");
        var saved = job.GetProperty("response").GetProperty("saved");
        await Assert.That(saved.GetProperty("path").GetString()).IsEqualTo($"by-job/{id}/out/r.bin");
        await Assert.That(saved.GetProperty("paths").GetArrayLength()).IsEqualTo(3);
        await Assert.That(saved.GetProperty("size").GetInt64()).IsEqualTo(5000);
        var bytes = await sidecar.Client.GetByteArrayAsync($"/api/v1/curl/storage/{saved.GetProperty("path").GetString()}");
        await Assert.That(JobsApi.Sha256(bytes)).IsEqualTo(Payload.Sha256Hex(5000, 3));

        // The record survives a restart with its saved paths.
        await sidecar.RestartAsync();
        var again = await JobsApi.GetAsync(sidecar.Client, id);
        await Assert.That(again.GetProperty("response").GetProperty("saved").GetProperty("path").GetString()).IsEqualTo($"by-job/{id}/out/r.bin");
    }
}
