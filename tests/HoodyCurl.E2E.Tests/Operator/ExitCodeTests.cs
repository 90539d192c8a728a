// Exit paths (issue 15, items 2 and 3): --help and --version exit 0, usage errors exit 2, run-time
// start-up failures exit 1 with one line `hoody-curl: <what> (<where>)` and never a stack trace. Each
// quick path runs 50 times: a native library initialised in the background used to race the exit.
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Operator;

public class ExitCodeTests
{
    private const int Runs = 50;

    [Test]
    [Arguments("--help")]
    [Arguments("--version")]
    [Arguments("--no-such-flag")]
    [Arguments("--pool-global=x")]
    public async Task Quick_exits_are_clean_every_time(string flag)
    {
        var expected = flag is "--help" or "--version" ? 0 : 2;
        var version = typeof(ExitCodeTests).Assembly.GetName().Version!;
        for (var i = 0; i < Runs; i++)
        {
            var (code, stdout, stderr) = await BinaryRun.RunAsync(flag);
            if (code != expected) throw new InvalidOperationException($"run {i}: {flag} exited {code}, expected {expected}\n{stdout}\n{stderr}");
            switch (flag)
            {
                case "--help":
                    await Assert.That(stdout).Contains("--storage-dir");
                    await Assert.That(stderr).IsEmpty();
                    break;
                case "--version":
                    await Assert.That(stdout.Trim()).StartsWith($"{version.Major}.{version.Minor}.{version.Build}");
                    await Assert.That(stderr).IsEmpty();
                    break;
                case "--no-such-flag":
                    await Assert.That(stderr).Contains("'--no-such-flag'");
                    await Assert.That(stdout).IsEmpty();
                    break;
                default:
                    await Assert.That(stderr).Contains("--pool-global");
                    await Assert.That(stderr).Contains("must be an integer");
                    await Assert.That(stderr).DoesNotContain("System.");
                    break;
            }
        }
    }

    [Test]
    public async Task A_bad_flag_value_is_a_usage_error_even_when_the_port_is_taken()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        var dir = Path.Combine(Path.GetTempPath(), "hoody-e2e-flag-" + Guid.NewGuid().ToString("N"));
        var (code, _, stderr) = await BinaryRun.RunAsync("--listen", $"127.0.0.1:{port}", "--storage-dir", dir, "--pool-global", "-1");
        await Assert.That(code).IsEqualTo(2);
        await Assert.That(stderr).Contains("--pool-global: must be a positive integer, got -1");
        await Assert.That(stderr).DoesNotContain("address already in use");
        await Assert.That(Directory.Exists(dir)).IsFalse();
    }

    [Test]
    public async Task Storage_dir_with_a_missing_parent_is_an_error_and_creates_nothing()
    {
        var parent = Path.Combine(Path.GetTempPath(), "hoody-e2e-missing-" + Guid.NewGuid().ToString("N"));
        var dir = Path.Combine(parent, "data");
        var (code, stdout, stderr) = await BinaryRun.RunAsync("--listen", "127.0.0.1:0", "--storage-dir", dir);
        await Assert.That(code).IsEqualTo(1);
        await Assert.That(stderr.Trim()).IsEqualTo($"hoody-curl: the storage dir's parent folder does not exist (create it first) ({dir})");
        await Assert.That(stdout).IsEmpty();
        await Assert.That(Directory.Exists(parent)).IsFalse();
    }

    [Test]
    public async Task Storage_path_that_is_a_file_is_one_line()
    {
        var file = Path.GetTempFileName();
        try
        {
            var (code, _, stderr) = await BinaryRun.RunAsync("--listen", "127.0.0.1:0", "--storage-dir", file);
            await Assert.That(code).IsEqualTo(1);
            await Assert.That(stderr.Trim()).IsEqualTo($"hoody-curl: storage dir is a file, not a folder ({file})");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Read_only_storage_dir_is_one_line()
    {
        // Permission bits do not stop root, so as root the binary runs as nobody (setpriv) against a folder
        // root owns with mode 0555; otherwise the folder is simply made read-only for ourselves.
        var asRoot = Posix.GetEuid() == 0;
        var root = Directory.CreateTempSubdirectory("hoody-e2e-ro-").FullName;
        var open = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        var readOnly = UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        var dir = Path.Combine(root, "data");
        try
        {
            File.SetUnixFileMode(root, open);
            Directory.CreateDirectory(dir);
            File.SetUnixFileMode(dir, readOnly);
            int code;
            string stderr;
            if (asRoot)
            {
                if (!File.Exists("/usr/bin/setpriv")) Skip.Test("running as root without setpriv (util-linux): cannot drop privileges");
                var binary = Path.Combine(root, "hoody-curl");
                File.Copy(Sidecar.BinaryPath, binary);
                File.SetUnixFileMode(binary, open);
                // A process another test forks while the copy's write descriptor is open holds it until its exec: running the
                // copy then fails with ETXTBSY ("Text file busy", setpriv exits 126). A few tries, not a verdict.
                (code, stderr) = (0, "");
                for (var attempt = 0; attempt < 5; attempt++)
                {
                    var info = new System.Diagnostics.ProcessStartInfo("/usr/bin/setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                    foreach (var a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", "--", binary, "--listen", "127.0.0.1:0", "--storage-dir", dir })
                        info.ArgumentList.Add(a);
                    using var process = System.Diagnostics.Process.Start(info)!;
                    var stderrTask = process.StandardError.ReadToEndAsync();
                    await process.StandardOutput.ReadToEndAsync();
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await process.WaitForExitAsync(cts.Token);
                    (code, stderr) = (process.ExitCode, await stderrTask);
                    if (code != 126 || !stderr.Contains("Text file busy", StringComparison.Ordinal)) break;
                    await Task.Delay(200);
                }
            }
            else
            {
                (code, _, stderr) = await BinaryRun.RunAsync("--listen", "127.0.0.1:0", "--storage-dir", dir);
            }
            await Assert.That(code).IsEqualTo(1).Because(stderr);
            await Assert.That(stderr.Trim()).IsEqualTo($"hoody-curl: storage dir is not writable ({dir})");
            await Assert.That(Directory.EnumerateFileSystemEntries(dir).Any()).IsFalse(); // nothing was created in it
        }
        finally
        {
            File.SetUnixFileMode(dir, open);
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public async Task A_file_that_is_not_a_database_is_one_line()
    {
        var dir = Directory.CreateTempSubdirectory("hoody-e2e-baddb-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "hoody-curl.db"), new string('x', 8192));
            var (code, _, stderr) = await BinaryRun.RunAsync("--listen", "127.0.0.1:0", "--storage-dir", dir);
            await Assert.That(code).IsEqualTo(1);
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            await Assert.That(lines.Length).IsEqualTo(1);
            await Assert.That(lines[0]).StartsWith("hoody-curl: cannot open the database: ");
            await Assert.That(lines[0]).EndsWith($"({Path.Combine(dir, "hoody-curl.db")})");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public async Task Unusable_listen_address_is_one_line()
    {
        var dir = Directory.CreateTempSubdirectory("hoody-e2e-addr-").FullName;
        try
        {
            // 192.0.2.1 (TEST-NET-1) is on no interface of this machine.
            var (code, _, stderr) = await BinaryRun.RunAsync("--listen", "192.0.2.1:8080", "--storage-dir", dir);
            await Assert.That(code).IsEqualTo(1);
            await Assert.That(stderr.Trim()).IsEqualTo("hoody-curl: cannot listen: this machine has no such address (192.0.2.1:8080)");
            await Assert.That(Directory.EnumerateFileSystemEntries(dir).Any()).IsFalse();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
