// Helpers for the jobs E2E tests: submit through /request mode=async, long-poll, read results.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Jobs;

internal static class JobsApi
{
    /// <summary>POST /api/v1/curl/request with mode=async; returns the job id (asserting 202).</summary>
    public static async Task<string> SubmitAsync(HttpClient client, string url, string extraFields = "")
    {
        var body = $"{{\"url\":\"{JsonEncodedText.Encode(url)}\",\"mode\":\"async\"{extraFields}}}";
        var (status, json) = await client.PostJsonAsync("/api/v1/curl/request", body);
        if (status != 202) throw new InvalidOperationException($"submit answered {status}: {json}");
        return json.GetProperty("job_id").GetString()!;
    }

    public static async Task<JsonElement> GetAsync(HttpClient client, string id)
    {
        var (status, json) = await client.GetJsonAsync($"/api/v1/curl/jobs/{id}");
        if (status != 200) throw new InvalidOperationException($"GET job answered {status}: {json}");
        return json;
    }

    /// <summary>Long-polls until terminal (fails after <paramref name="timeoutMs"/>).</summary>
    public static async Task<JsonElement> WaitAsync(HttpClient client, string id, int timeoutMs = 60_000)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var left = (int)Math.Max(1, Math.Min(120_000, timeoutMs - clock.ElapsedMilliseconds));
            var (status, job) = await client.GetJsonAsync($"/api/v1/curl/jobs/{id}?wait=done&timeout_ms={left}");
            if (status != 200) throw new InvalidOperationException($"long-poll answered {status}: {job}");
            var state = job.GetProperty("status").GetString()!;
            if (state is "completed" or "failed" or "cancelled") return job;
            if (clock.ElapsedMilliseconds >= timeoutMs) throw new TimeoutException($"job {id} still {state} after {timeoutMs} ms");
        }
    }

    public static string Status(this JsonElement job) => job.GetProperty("status").GetString()!;

    public static async Task<(int Status, string Sha256, long Length)> ResultDigestAsync(HttpClient client, string id, string? range = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/curl/jobs/{id}/result");
        if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[128 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            total += read;
        }
        return ((int)response.StatusCode, Convert.ToHexStringLower(sha.GetHashAndReset()), total);
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Bytes the test upstream's /slow/{n} sends: 'a'..'z' repeated.</summary>
    public static byte[] SlowBody(int n) => [.. Enumerable.Range(0, n).Select(i => (byte)('a' + i % 26))];

    /// <summary>PRAGMA integrity_check of a database file through the sqlite3 CLI (python3 as a fallback).</summary>
    public static async Task<string> IntegrityCheckAsync(string dbPath)
    {
        foreach (var (exe, args) in new[]
                 {
                     ("sqlite3", new[] { dbPath, "PRAGMA integrity_check;" }),
                     ("python3", new[] { "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])", dbPath }),
                 })
        {
            try
            {
                var info = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in args) info.ArgumentList.Add(a);
                using var process = Process.Start(info)!;
                var output = await process.StandardOutput.ReadToEndAsync();
                await process.WaitForExitAsync();
                if (process.ExitCode == 0) return output.Trim();
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed: try the next one.
            }
        }
        throw new InvalidOperationException("neither sqlite3 nor python3 is available to check the database");
    }
}
