// deploy/ (issue 15): the systemd unit passes `systemd-analyze verify` (skipped when the tool is
// missing) and every deployment recipe starts the real binary with the flags it ships. The container
// image itself is not built here (no container engine in the test environment).
using System.Diagnostics;
using System.Text.RegularExpressions;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Operator;

public partial class DeployTests
{
    private static string DeployDir
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "deploy");
                if (File.Exists(Path.Combine(candidate, "Dockerfile"))) return candidate;
            }
            throw new DirectoryNotFoundException("deploy/ not found above " + AppContext.BaseDirectory);
        }
    }

    [Test]
    public async Task Systemd_unit_passes_systemd_analyze_verify()
    {
        var tool = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);
        if (tool is null) Skip.Test("systemd-analyze is not installed on this machine");
        var unit = await File.ReadAllTextAsync(Path.Combine(DeployDir, "systemd", "hoody-curl.service"));
        // verify checks that ExecStart's program exists: point it at the binary under test.
        var dir = Directory.CreateTempSubdirectory("hoody-e2e-unit-").FullName;
        try
        {
            var path = Path.Combine(dir, "hoody-curl.service");
            await File.WriteAllTextAsync(path, unit.Replace("ExecStart=/usr/local/bin/hoody-curl ", $"ExecStart={Sidecar.BinaryPath} ", StringComparison.Ordinal));
            var info = new ProcessStartInfo(tool!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("verify");
            info.ArgumentList.Add(path);
            using var process = Process.Start(info)!;
            var stderr = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            await Assert.That(process.ExitCode).IsEqualTo(0);
            await Assert.That(stderr.Trim()).IsEmpty();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task Systemd_unit_flags_start_the_binary()
    {
        var unit = await File.ReadAllTextAsync(Path.Combine(DeployDir, "systemd", "hoody-curl.service"));
        var exec = unit.Split('\n').Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal));
        var flags = exec["ExecStart=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        await StartsWith(flags);
    }

    [Test]
    public async Task Dockerfile_is_multi_stage_non_root_with_volume_and_healthcheck_and_its_flags_start_the_binary()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(DeployDir, "Dockerfile"));
        await Assert.That(Regex.Matches(text, @"^FROM ", RegexOptions.Multiline).Count).IsEqualTo(2);
        await Assert.That(text).Contains("FROM debian:bookworm-slim");
        await Assert.That(text).Contains("libcurl4");
        await Assert.That(Regex.IsMatch(text, @"^USER 10001", RegexOptions.Multiline)).IsTrue();
        await Assert.That(text).Contains("VOLUME [\"/data\"]");
        await Assert.That(Regex.IsMatch(text, @"^HEALTHCHECK .*\n.*http://127\.0\.0\.1:8080/health", RegexOptions.Multiline)).IsTrue();
        var entry = EntryPoint().Match(text);
        await Assert.That(entry.Success).IsTrue();
        var flags = entry.Groups[1].Value.Split(',').Select(a => a.Trim().Trim('"')).Skip(1).ToArray();
        await Assert.That(flags).Contains("0.0.0.0:8080");
        await StartsWith(flags);
    }

    [Test]
    public async Task Kubernetes_snippet_probes_health_and_is_scraped()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(DeployDir, "kubernetes", "sidecar.yaml"));
        await Assert.That(text).Contains("prometheus.io/scrape: \"true\"");
        await Assert.That(text).Contains("prometheus.io/path: \"/metrics\"");
        await Assert.That(text).Contains("readinessProbe:");
        await Assert.That(text).Contains("livenessProbe:");
        await Assert.That(Regex.Matches(text, @"httpGet: \{ path: /health, port: http \}").Count).IsEqualTo(2);
        // The args the snippet adds to the image's entrypoint are flags the binary accepts.
        var args = Regex.Matches(text, @"^\s+- (--[a-z-]+|""?[0-9a-z]+""?)\s*$", RegexOptions.Multiline).Select(m => m.Groups[1].Value.Trim('"')).ToArray();
        await Assert.That(args).Contains("--log-format");
        await StartsWith([.. args, "--listen", "0.0.0.0:8080", "--storage-dir", "/data"]);
    }

    /// <summary>Runs the binary with <paramref name="flags"/> (listen and storage dir swapped for test ones) until /health answers.</summary>
    private static async Task StartsWith(string[] flags)
    {
        var dir = Directory.CreateTempSubdirectory("hoody-e2e-deploy-").FullName;
        var port = Sidecar.FreePort();
        var args = new List<string>();
        for (var i = 0; i < flags.Length; i++)
        {
            if (flags[i] is "--listen" or "--storage-dir") { i++; continue; }
            args.Add(flags[i]);
        }
        args.AddRange(["--listen", $"127.0.0.1:{port}", "--storage-dir", Path.Combine(dir, "data")]);
        var info = new ProcessStartInfo(Sidecar.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (process.HasExited) throw new InvalidOperationException($"exited {process.ExitCode} with {string.Join(' ', args)}: {await stderr}");
                try
                {
                    using var response = await client.GetAsync($"http://127.0.0.1:{port}/health");
                    if (response.IsSuccessStatusCode) break;
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { } // one slow answer (2 s client timeout) is retried like a refused one
                if (clock.Elapsed > TimeSpan.FromSeconds(15)) throw new TimeoutException("no /health within 15 s");
                await Task.Delay(20);
            }
        }
        finally
        {
            if (!process.HasExited) Posix.Kill(process.Id, Posix.SIGTERM);
            await process.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
        await Assert.That(process.ExitCode).IsEqualTo(0);
    }

    [GeneratedRegex(@"^ENTRYPOINT \[(.*)\]", RegexOptions.Multiline)]
    private static partial Regex EntryPoint();
}
