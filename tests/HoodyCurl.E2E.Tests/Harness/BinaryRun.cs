// Runs the published binary to completion (flags that make it exit: --help, bad values, start-up
// failures) and returns its exit code and both output streams.
using System.Diagnostics;

namespace HoodyCurl.E2E.Tests.Harness;

public static class BinaryRun
{
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Sidecar.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(true);
            throw new TimeoutException($"hoody-curl {string.Join(' ', args)} did not exit within 30 s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Every file under <paramref name="dir"/> with its length, mtime and SHA-256, one line each.</summary>
    public static string Snapshot(string dir) => string.Join('\n', Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
        .Select(f => $"{Path.GetRelativePath(dir, f)} {new FileInfo(f).Length} {File.GetLastWriteTimeUtc(f):O} {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}"));
}
