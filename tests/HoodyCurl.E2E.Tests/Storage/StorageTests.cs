// Saved downloads against the published binary (issue 5 acceptance): a 200 MiB body saved from a
// chunked stream appears under three paths, downloads byte-exact (sha256), ranged and with ETag, and is
// removed by deleting any one path; save_path rules, max_filesize and the list's pagination.
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Storage;

public class StorageTests
{
    [Test]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // file modes
    public async Task A_200_mib_save_has_three_paths_downloads_exactly_and_deletes_via_any()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        const long size = 200L * 1024 * 1024;
        const int seed = 7;
        var url = upstream.Url($"/stream-bytes/{size}?seed={seed}");

        // response "transparent" is overridden: a save always answers the json envelope.
        using var saveResponse = await client.PostAsync("/api/v1/curl/request",
            Api.Json($"{{\"url\":\"{JsonEncodedText.Encode(url)}\",\"save\":true,\"response\":\"transparent\"}}"));
        var saved = await Api.ReadJsonAsync(saveResponse);
        await Assert.That((int)saveResponse.StatusCode).IsEqualTo(200);
        var id = saved.GetProperty("job_id").GetString()!;
        await Assert.That(Guid.TryParse(id, out _)).IsTrue();
        await Assert.That(saveResponse.Headers.GetValues("X-Request-Id").Single()).IsEqualTo(id);
        await Assert.That(saved.GetProperty("success").GetBoolean()).IsTrue();
        await Assert.That(saved.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(saved.GetProperty("body").GetString()).IsEqualTo("");
        await Assert.That(saved.GetProperty("metadata").GetProperty("size_download").GetInt64()).IsEqualTo(size);
        var info = saved.GetProperty("saved");
        await Assert.That(info.GetProperty("id").GetString()).IsEqualTo(id);
        await Assert.That(info.GetProperty("size").GetInt64()).IsEqualTo(size);
        var day = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        string[] paths = [$"by-job/{id}/{size}", $"by-domain/127.0.0.1/{id}", $"by-date/{day}/{id}"];
        await Assert.That(info.GetProperty("path").GetString()).IsEqualTo(paths[0]);
        await Assert.That(info.GetProperty("paths").EnumerateArray().Select(p => p.GetString()!).ToArray())
            .IsEquivalentTo(paths, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        // Streamed to disk, never buffered: memory stays flat whatever the body size.
        await Assert.That(sidecar.Memory().Peak).IsLessThan(128L * 1024 * 1024);

        var (listStatus, list) = await client.GetJsonAsync("/api/v1/curl/storage");
        await Assert.That(listStatus).IsEqualTo(200);
        var items = list.GetProperty("items").EnumerateArray().ToArray();
        await Assert.That(items.Select(i => i.GetProperty("path").GetString()!).ToArray())
            .IsEquivalentTo(paths.Order(StringComparer.Ordinal).ToArray(), TUnit.Assertions.Enums.CollectionOrdering.Matching);
        foreach (var item in items)
        {
            await Assert.That(item.GetProperty("size").GetInt64()).IsEqualTo(size);
            await Assert.That(item.GetProperty("job_id").GetString()).IsEqualTo(id);
            await Assert.That(item.GetProperty("url").GetString()).IsEqualTo(url);
            await Assert.That(item.GetProperty("created_at").GetString()!).EndsWith("Z");
        }
        await Assert.That(list.GetProperty("meta").GetProperty("total").GetInt32()).IsEqualTo(3);

        // On disk: one inode under three names, 0600 files in 0700 folders.
        var downloads = Path.Join(sidecar.StorageDir, "downloads");
        foreach (var p in paths)
            await Assert.That(File.GetUnixFileMode(Path.Join(downloads, p))).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        foreach (var d in new[] { "", "by-job", $"by-job/{id}", "by-domain/127.0.0.1", $"by-date/{day}" })
            await Assert.That(File.GetUnixFileMode(Path.Join(downloads, d))).IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // Literal slashes: the whole file, byte-exact.
        var whole = await StorageApi.DownloadAsync(client, $"/api/v1/curl/storage/{paths[0]}");
        await Assert.That(whole.Status).IsEqualTo(200);
        await Assert.That(whole.ContentType).IsEqualTo("application/octet-stream");
        await Assert.That(whole.ContentLength).IsEqualTo(size);
        await Assert.That(whole.Length).IsEqualTo(size);
        await Assert.That(whole.Sha256).IsEqualTo(Payload.Sha256Hex(size, seed));
        await Assert.That(whole.ETag).IsNotNull();

        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/v1/curl/storage/{paths[0]}")))
        {
            await Assert.That((int)head.StatusCode).IsEqualTo(200);
            await Assert.That(head.Content.Headers.ContentLength).IsEqualTo(size);
            await Assert.That(head.Headers.AcceptRanges.Contains("bytes")).IsTrue();
        }

        // %2F-encoded (the SDK's encodeURIComponent), with a Range.
        var encoded = "/api/v1/curl/storage/" + Uri.EscapeDataString(paths[1]);
        var ranged = await StorageApi.DownloadAsync(client, encoded, request => request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, 1999));
        await Assert.That(ranged.Status).IsEqualTo(206);
        await Assert.That(ranged.Length).IsEqualTo(1000L);
        await Assert.That(ranged.Sha256).IsEqualTo(Convert.ToHexStringLower(SHA256.HashData(Payload.Create(1000, seed, 1000))));
        await Assert.That(ranged.ContentRange).IsEqualTo($"bytes 1000-1999/{size}");
        var tail = await StorageApi.DownloadAsync(client, encoded, request => request.Headers.TryAddWithoutValidation("Range", "bytes=-10"));
        await Assert.That(tail.Status).IsEqualTo(206);
        await Assert.That(tail.Sha256).IsEqualTo(Convert.ToHexStringLower(SHA256.HashData(Payload.Create(10, seed, size - 10))));
        var beyond = await StorageApi.DownloadAsync(client, encoded, request => request.Headers.TryAddWithoutValidation("Range", $"bytes={size}-"));
        await Assert.That(beyond.Status).IsEqualTo(416);
        var notModified = await StorageApi.DownloadAsync(client, $"/api/v1/curl/storage/{paths[2]}", request => request.Headers.TryAddWithoutValidation("If-None-Match", whole.ETag!));
        await Assert.That(notModified.Status).IsEqualTo(304);
        await Assert.That(notModified.Length).IsEqualTo(0L);

        // Delete through the by-date path (encoded): all three go.
        using (var delete = await client.DeleteAsync("/api/v1/curl/storage/" + Uri.EscapeDataString(paths[2])))
        {
            await Assert.That((int)delete.StatusCode).IsEqualTo(200);
            var body = await Api.ReadJsonAsync(delete);
            await Assert.That(body.GetProperty("message").GetString()).IsEqualTo("File deleted");
            await Assert.That(body.GetProperty("path").GetString()).IsEqualTo(paths[2]);
        }
        foreach (var p in paths)
        {
            var (status, error) = await client.GetJsonAsync($"/api/v1/curl/storage/{p}");
            await Assert.That(status).IsEqualTo(404);
            await Assert.That(error.GetProperty("code").GetString()).IsEqualTo("FILE_NOT_FOUND");
            using var again = await client.DeleteAsync($"/api/v1/curl/storage/{p}");
            await Assert.That((int)again.StatusCode).IsEqualTo(404);
        }
        var (_, empty) = await client.GetJsonAsync("/api/v1/curl/storage");
        await Assert.That(empty.GetProperty("items").GetArrayLength()).IsEqualTo(0);
        await Assert.That(Directory.EnumerateFiles(downloads, "*", SearchOption.AllDirectories).Any()).IsFalse();
    }

    [Test]
    public async Task A_crash_mid_save_leaves_nothing_after_restart()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var done = await client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{JsonEncodedText.Encode(upstream.Url("/bytes/1000"))}\",\"save\":true}}");
        await Assert.That(done.Status).IsEqualTo(200);

        var url = upstream.Url($"/stream-bytes/{10L * 1024 * 1024 * 1024}");
        var pending = client.PostAsync("/api/v1/curl/request", Api.Json($"{{\"url\":\"{JsonEncodedText.Encode(url)}\",\"save\":true}}"));
        var partial = Path.Join(sidecar.StorageDir, "downloads", ".partial");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(Directory.Exists(partial) && Directory.EnumerateFiles(partial).Any(f => new FileInfo(f).Length > 8 * 1024 * 1024)))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the save never got going");
            await Task.Delay(20);
        }
        await sidecar.KillAsync(); // kill -9 mid-body
        try { (await pending).Dispose(); } catch (HttpRequestException) { }

        await sidecar.RestartAsync();
        var (_, list) = await client.GetJsonAsync("/api/v1/curl/storage");
        await Assert.That(list.GetProperty("items").GetArrayLength()).IsEqualTo(3); // only the finished save
        await Assert.That(Directory.EnumerateFileSystemEntries(partial).Any()).IsFalse();
        var files = Directory.EnumerateFiles(Path.Join(sidecar.StorageDir, "downloads"), "*", SearchOption.AllDirectories).ToArray();
        await Assert.That(files.Length).IsEqualTo(3);
    }

    [Test]
    public async Task Save_path_on_the_get_bridge_and_its_rules()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var url = Api.Q(upstream.Url("/bytes/4096?seed=3"));
        var (status, saved) = await client.GetJsonAsync($"/api/v1/curl/request?url={url}&save=true&save_path={Api.Q("reports/2024/monthly.csv")}");
        await Assert.That(status).IsEqualTo(200);
        var id = saved.GetProperty("job_id").GetString()!;
        await Assert.That(saved.GetProperty("saved").GetProperty("path").GetString()).IsEqualTo($"by-job/{id}/reports/2024/monthly.csv");
        var download = await StorageApi.DownloadAsync(client, $"/api/v1/curl/storage/by-job/{id}/reports/2024/monthly.csv");
        await Assert.That(download.Sha256).IsEqualTo(Payload.Sha256Hex(4096, 3));

        foreach (var bad in new[] { "../escape", "/abs/path", "a/../../b", "a\\b", "", "C:/x", "a//b" })
        {
            var (badStatus, error) = await client.PostJsonAsync("/api/v1/curl/request",
                $"{{\"url\":\"{JsonEncodedText.Encode(upstream.Url("/bytes/10"))}\",\"save\":true,\"save_path\":\"{JsonEncodedText.Encode(bad)}\"}}");
            await Assert.That(badStatus).IsEqualTo(400);
            await Assert.That(error.GetProperty("code").GetString()).IsEqualTo("VALIDATION_ERROR");
        }
        var (_, list) = await client.GetJsonAsync("/api/v1/curl/storage?limit=2");
        await Assert.That(list.GetProperty("items").GetArrayLength()).IsEqualTo(2);
        await Assert.That(list.GetProperty("meta").GetProperty("total").GetInt32()).IsEqualTo(3);
        await Assert.That(list.GetProperty("has_more").GetBoolean()).IsTrue();
        var (_, page2) = await client.GetJsonAsync("/api/v1/curl/storage?limit=2&page=2");
        await Assert.That(page2.GetProperty("items").GetArrayLength()).IsEqualTo(1);
        await Assert.That(page2.GetProperty("has_more").GetBoolean()).IsFalse();
        var (badPage, _) = await client.GetJsonAsync("/api/v1/curl/storage?page=0");
        await Assert.That(badPage).IsEqualTo(400);
    }

    [Test]
    public async Task Max_filesize_and_failed_transfers_leave_no_file()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--max-saved-file-bytes", "100000");
        var client = sidecar.Client;
        async Task<JsonElement> Refused(string upstreamPath, string extra, int expected)
        {
            var (status, error) = await client.PostJsonAsync("/api/v1/curl/request",
                $"{{\"url\":\"{JsonEncodedText.Encode(upstream.Url(upstreamPath))}\",\"save\":true{extra}}}");
            await Assert.That(status).IsEqualTo(expected);
            return error;
        }
        // Chunked (no Content-Length): the limit trips mid-body. Known length: libcurl refuses up front.
        var chunked = await Refused("/stream-bytes/50000", ",\"max_filesize\":1000", 502);
        await Assert.That(chunked.GetProperty("code").GetString()).IsEqualTo("RESPONSE_TOO_LARGE");
        await Refused("/bytes/50000", ",\"max_filesize\":1000", 502);
        var byFlag = await Refused("/stream-bytes/200000", "", 502);
        await Assert.That(byFlag.GetProperty("message").GetString()!).Contains("--max-saved-file-bytes");
        await Refused("/close-early?bytes=50000", "", 502);

        var (_, list) = await client.GetJsonAsync("/api/v1/curl/storage");
        await Assert.That(list.GetProperty("items").GetArrayLength()).IsEqualTo(0);
        var downloads = Path.Join(sidecar.StorageDir, "downloads");
        await Assert.That(Directory.EnumerateFiles(downloads, "*", SearchOption.AllDirectories).ToArray()).IsEmpty();

        var ok = await client.PostJsonAsync("/api/v1/curl/request",
            $"{{\"url\":\"{JsonEncodedText.Encode(upstream.Url("/bytes/100000"))}\",\"save\":true,\"max_filesize\":100000}}");
        await Assert.That(ok.Status).IsEqualTo(200);
    }
}
