// Starts the published AOT binary (dist/hoody-curl, or $HOODY_CURL_BIN) as a real process on a free
// loopback port with its own storage folder, and stops it. Tests drive it over HTTP like a user.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HoodyCurl.E2E.Tests.Harness;

public sealed class Sidecar : IAsyncDisposable
{
    private readonly string[] _flags;
    private readonly bool _ownsStorage;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private IReadOnlyDictionary<string, string>? _environment;

    private Sidecar(string[] flags, string storageDir, bool ownsStorage, int port)
    {
        _flags = flags;
        StorageDir = storageDir;
        _ownsStorage = ownsStorage;
        Port = port;
        Client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = new Uri(BaseUrl),
            Timeout = TimeSpan.FromSeconds(120),
        };
    }

    public int Port { get; private set; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public string StorageDir { get; }
    public HttpClient Client { get; }
    public int Pid => _process?.Id ?? 0;
    public string Output { get { lock (_output) return _output.ToString(); } }

    public static string BinaryPath
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("HOODY_CURL_BIN");
            if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "dist", "hoody-curl");
                if (File.Exists(candidate)) return candidate;
            }
            throw new FileNotFoundException("dist/hoody-curl not found: run ./build.sh first (or set HOODY_CURL_BIN)");
        }
    }

    /// <summary>
    /// Starts the sidecar with <paramref name="flags"/>. Unless the flags contain --allow-cidr already,
    /// --allow-cidr 127.0.0.1/32 is added so the test upstream on loopback is reachable (decisions D11).
    /// </summary>
    public static Task<Sidecar> StartAsync(params string[] flags) => StartInAsync(null, flags);

    /// <summary>Starts the sidecar with extra environment variables (e.g. http_proxy) set for its process.</summary>
    public static async Task<Sidecar> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] flags)
    {
        var storageDir = Directory.CreateTempSubdirectory("hoody-e2e-").FullName;
        var all = flags.Contains("--allow-cidr") || flags.Contains("--no-default-allow")
            ? flags.Where(f => f != "--no-default-allow").ToArray()
            : [.. flags, "--allow-cidr", "127.0.0.1/32"];
        var sidecar = new Sidecar(all, storageDir, true, FreePort()) { _environment = environment };
        await sidecar.StartOrCleanUpAsync();
        return sidecar;
    }

    /// <summary>Starts the sidecar on an existing storage folder (kept on dispose when given).</summary>
    public static async Task<Sidecar> StartInAsync(string? storageDir, params string[] flags)
    {
        var owns = storageDir is null;
        storageDir ??= Directory.CreateTempSubdirectory("hoody-e2e-").FullName;
        var all = flags.Contains("--allow-cidr") || flags.Contains("--no-default-allow")
            ? flags.Where(f => f != "--no-default-allow").ToArray()
            : [.. flags, "--allow-cidr", "127.0.0.1/32"];
        var sidecar = new Sidecar(all, storageDir, owns, FreePort());
        await sidecar.StartOrCleanUpAsync();
        return sidecar;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Starts the process; when it never becomes healthy (a test expecting a refused start, for one), the storage
    /// folder this sidecar created is removed before the exception goes on, as DisposeAsync would have.
    /// </summary>
    private async Task StartOrCleanUpAsync()
    {
        try
        {
            await StartProcessAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartProcessAsync()
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var info = new ProcessStartInfo(BinaryPath)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (_environment is not null) foreach (var (name, value) in _environment) info.Environment[name] = value;
            foreach (var a in new[] { "--listen", $"127.0.0.1:{Port}", "--storage-dir", StorageDir }.Concat(_flags)) info.ArgumentList.Add(a);
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            if (await WaitReadyAsync(TimeSpan.FromSeconds(15))) return;
            if (!process.HasExited) { process.Kill(true); await process.WaitForExitAsync(); }
            if (!Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase)) break;
            Port = FreePort(); // someone took the port between probe and bind: try another
        }
        throw new InvalidOperationException($"hoody-curl did not become healthy. Output:\n{Output}");
    }

    private async Task<bool> WaitReadyAsync(TimeSpan limit)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            if (_process!.HasExited) return false;
            try
            {
                using var response = await probe.GetAsync($"{BaseUrl}/health");
                if (response.IsSuccessStatusCode) return true;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(20);
        }
        return false;
    }

    /// <summary>SIGKILL: no chance to clean up (crash simulation).</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM and wait for a graceful exit; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? wait = null)
    {
        if (_process is not { HasExited: false } p) return _process?.ExitCode ?? 0;
        Posix.Kill(p.Id, Posix.SIGTERM);
        using var cts = new CancellationTokenSource(wait ?? TimeSpan.FromSeconds(30));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(true); await p.WaitForExitAsync(); }
        return p.ExitCode;
    }

    /// <summary>Starts the process again on the same port and storage folder.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        await StartProcessAsync();
    }

    public bool HasExited => _process?.HasExited ?? true;

    /// <summary>Sends <paramref name="signal"/> to the sidecar (no waiting).</summary>
    public void Signal(int signal)
    {
        if (_process is { HasExited: false } p) Posix.Kill(p.Id, signal);
    }

    /// <summary>Waits for the process to exit and returns its exit code; throws TimeoutException after <paramref name="limit"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await _process!.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"hoody-curl did not exit within {limit}. Output:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>Waits until the output holds a line containing <paramref name="text"/>; returns that line.</summary>
    public async Task<string> WaitForLineAsync(string text, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var line = Output.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null) return line;
            if (clock.Elapsed > limit) throw new TimeoutException($"no line with '{text}' within {limit}. Output:\n{Output}");
            await Task.Delay(20);
        }
    }

    /// <summary>Resident set size (VmRSS) and peak (VmHWM) of the sidecar, in bytes.</summary>
    public (long Rss, long Peak) Memory()
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = ParseKb(line);
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = ParseKb(line);
        }
        return (rss, peak);
    }

    private static long ParseKb(string line) => long.Parse(new string(line.Where(char.IsDigit).ToArray())) * 1024;

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process?.Dispose();
        Client.Dispose();
        if (_ownsStorage)
        {
            try { Directory.Delete(StorageDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

internal static partial class Posix
{
    public const int SIGINT = 2;
    public const int SIGTERM = 15;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    public static partial int Kill(int pid, int signal);
}
