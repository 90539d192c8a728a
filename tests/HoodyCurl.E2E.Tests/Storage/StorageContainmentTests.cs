// Nothing outside the downloads root is reachable through /storage/{path}: traversal in every encoding
// (sent raw over a socket, so no client normalises it first), absolute paths, backslashes, NUL, and
// symlinks planted in the downloads folder. Each attempt gets 400 or 404, never reads the secret
// next to the root, and a DELETE never removes anything outside it.
using System.Text;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.E2E.Tests.Security;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Storage;

public class StorageContainmentTests
{
    private const string Secret = "TOP-SECRET-OUTSIDE-THE-ROOT";

    [Test]
    public async Task Traversal_absolute_backslash_and_nul_paths_are_refused()
    {
        await using var sidecar = await Sidecar.StartAsync();
        // A secret beside downloads/ and one at the file-system root level the attacks aim at.
        var secretFile = Path.Join(sidecar.StorageDir, "secret.txt");
        File.WriteAllText(secretFile, Secret);
        var db = Path.Join(sidecar.StorageDir, "hoody-curl.db");
        string[] targets =
        [
            "../secret.txt",
            "../../secret.txt",
            "by-job/../../secret.txt",
            "%2e%2e%2fsecret.txt",
            "%2E%2E%2Fhoody-curl.db",
            "by-job%2F..%2F..%2Fsecret.txt",
            "%2F..%2F..%2Fsecret.txt",
            "by-job/..%2F..%2Fsecret.txt",
            "..%5Csecret.txt",
            "by-job%5C..%5C..%5Csecret.txt",
            "%2Fetc%2Fpasswd",
            "/etc/passwd",
            Uri.EscapeDataString(secretFile),
            "C:%5Cwindows",
            "by-job/x%00.txt",
            "by-job/%2e/x",
            "%252e%252e%252fsecret.txt",
        ];
        foreach (var target in targets)
        {
            foreach (var method in new[] { "GET", "DELETE", "HEAD" })
            {
                var request = Encoding.ASCII.GetBytes($"{method} /api/v1/curl/storage/{target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                var (status, body) = await RawRequest.SendAsync(sidecar.Port, request);
                if (status is not (400 or 404)) throw new InvalidOperationException($"{method} {target} answered {status}: {body}");
                await Assert.That(body).DoesNotContain(Secret);
                await Assert.That(body).DoesNotContain("SQLite format");
                await Assert.That(body).DoesNotContain("root:");
            }
        }
        await Assert.That(File.ReadAllText(secretFile)).IsEqualTo(Secret);
        await Assert.That(File.Exists(db)).IsTrue();
        var (health, _) = await sidecar.Client.GetJsonAsync("/health");
        await Assert.That(health).IsEqualTo(200);
    }

    [Test]
    public async Task Symlinks_planted_in_the_downloads_folder_are_never_followed()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var outsideDir = Path.Join(sidecar.StorageDir, "outside");
        Directory.CreateDirectory(outsideDir);
        var secretFile = Path.Join(outsideDir, "secret.txt");
        File.WriteAllText(secretFile, Secret);
        var downloads = Path.Join(sidecar.StorageDir, "downloads");

        // 1. A symlink at a name the index does not know.
        Directory.CreateDirectory(Path.Join(downloads, "by-job", "planted"));
        File.CreateSymbolicLink(Path.Join(downloads, "by-job", "planted", "link"), secretFile);
        Directory.CreateDirectory(Path.Join(downloads, "by-domain"));
        Directory.CreateSymbolicLink(Path.Join(downloads, "by-domain", "planted-dir"), outsideDir);
        foreach (var path in new[] { "by-job/planted/link", "by-domain/planted-dir/secret.txt", "by-job%2Fplanted%2Flink" })
        {
            await AssertRefusedAsync(client, path);
        }

        // 2. Real saved files whose mirror, and whose folder, are swapped for symlinks pointing outside.
        var first = await SaveAsync(client, upstream.Url("/bytes/100"), "secret.txt");
        var second = await SaveAsync(client, upstream.Url("/bytes/200"), null);
        File.Delete(Path.Join(downloads, second[1]));
        File.CreateSymbolicLink(Path.Join(downloads, second[1]), secretFile);
        var firstFolder = Path.Join(downloads, Path.GetDirectoryName(first[0])!);
        Directory.Delete(firstFolder, recursive: true);
        Directory.CreateSymbolicLink(firstFolder, outsideDir);

        await AssertRefusedAsync(client, first[0]);
        await AssertRefusedAsync(client, second[1]);
        // The other mirrors still serve the real bytes.
        var real = await StorageApi.DownloadAsync(client, "/api/v1/curl/storage/" + second[2]);
        await Assert.That(real.Length).IsEqualTo(200L);

        // Deleting through the swapped paths removes our entries and links, never the targets.
        foreach (var path in new[] { first[0], second[1] })
        {
            using var delete = await client.DeleteAsync("/api/v1/curl/storage/" + path);
            await Assert.That((int)delete.StatusCode).IsEqualTo(200);
        }
        await Assert.That(File.ReadAllText(secretFile)).IsEqualTo(Secret);
        await Assert.That(Directory.EnumerateFileSystemEntries(outsideDir).Count()).IsEqualTo(1);
        var (_, list) = await client.GetJsonAsync("/api/v1/curl/storage");
        await Assert.That(list.GetProperty("items").GetArrayLength()).IsEqualTo(0);
    }

    private static async Task AssertRefusedAsync(HttpClient client, string path)
    {
        var download = await StorageApi.DownloadAsync(client, "/api/v1/curl/storage/" + path);
        if (download.Status is not (400 or 404)) throw new InvalidOperationException($"GET {path} answered {download.Status}");
        await Assert.That(download.Length).IsLessThan(200L); // an error body, never the secret's bytes
    }

    private static async Task<string[]> SaveAsync(HttpClient client, string url, string? savePath)
    {
        var extra = savePath is null ? "" : $",\"save_path\":\"{savePath}\"";
        var (status, saved) = await client.PostJsonAsync("/api/v1/curl/request", $"{{\"url\":\"{JsonEncodedText.Encode(url)}\",\"save\":true{extra}}}");
        if (status != 200) throw new InvalidOperationException($"save answered {status}: {saved}");
        return [.. saved.GetProperty("saved").GetProperty("paths").EnumerateArray().Select(p => p.GetString()!)];
    }
}
