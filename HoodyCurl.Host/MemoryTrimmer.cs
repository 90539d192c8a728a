// Gives memory back after load (issue 16 item 7) and after start-up (issue 13). With the workstation GC nothing
// collects while the sidecar is idle, so a heap grown under a burst (200 MiB after a soak) stayed committed
// forever, glibc kept the native arenas libcurl and OpenSSL had used, and every pooled SQLite connection its
// page cache. Every half second this looks at how much was allocated since the last look; once the process has
// gone quiet after activity, it closes the idle SQLite connections, runs one aggressive, compacting collection
// (which decommits the freed heap), malloc_trim(0) (which returns free native arena pages) and drops the
// executable's clean pages from the process's page tables, then waits for the next burst. Start-up counts as a
// burst: the host's build allocates ~8 MiB and touches most of the 15 MiB image once, so the first quiet second
// after start trims too. An idle sidecar pays one check per period.
using System.Runtime;
using System.Runtime.InteropServices;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Kernel.Time;
using Microsoft.Extensions.Hosting;

namespace HoodyCurl.Host;

internal sealed partial class MemoryTrimmer(FirstTraffic firstTraffic) : BackgroundService
{
    /// <summary>
    /// How often allocation is sampled. Half a second, and <see cref="QuietSamples"/> quiet samples in a row make the
    /// process quiet: a burst's memory goes back ~0.8-1.5 s after the burst instead of 5-10 s (the first quiet 5 s window).
    /// The rig's 100 MiB download starts ~2 s after its last 1 KiB cell, and with 5 s the 256-connection cell's heap and
    /// code pages were still resident then: peak RSS 64.0 MiB against the download's own 30-38 MiB (bench/RESULTS.md,
    /// issue 13).
    /// </summary>
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(500);
    /// <summary>
    /// Quiet samples in a row before a trim: a lull of one half second inside bursty traffic is not the end of it (a trim
    /// is a blocking compacting collection, and the executable's code faults back in afterwards).
    /// </summary>
    private const int QuietSamples = 2;
    /// <summary>How often allocation is sampled right after start, until the first quiet sample.</summary>
    private static readonly TimeSpan StartPeriod = TimeSpan.FromMilliseconds(500);
    /// <summary>Give up on a start-up trim after this long (a sidecar busy from its first second trims after the burst).</summary>
    private static readonly TimeSpan StartWindow = TimeSpan.FromSeconds(30);
    /// <summary>Below this many bytes allocated in one period the sample counts as quiet (0.8 MiB/s, as 4 MiB per 5 s was).</summary>
    private const long QuietBytes = 400 * 1024;
    /// <summary>Below this many bytes allocated in one start-up sample the process counts as quiet.</summary>
    private const long StartQuietBytes = 256 * 1024;
    /// <summary>Allocation since the last trim that makes another trim worth it.</summary>
    private const long WorthTrimmingBytes = 64 * 1024 * 1024;
    /// <summary>
    /// Free pooled buffer bytes that make a trim worth it on their own: bodies relayed through the pools allocate
    /// little on the managed heap, so a burst of large bodies left its blocks behind without reaching
    /// <see cref="WorthTrimmingBytes"/>.
    /// </summary>
    private const long WorthTrimmingPooledBytes = 8 * 1024 * 1024;
    /// <summary>
    /// Growth of the resident set since the last trim that makes a trim worth it on its own, checked once as a quiet
    /// period begins. A trim that a lull inside a burst set off reset the allocation count, and the rest of the burst
    /// (under <see cref="WorthTrimmingBytes"/>) then kept its heap resident for good: 16 json answers of 6 MiB, a 2 s pause
    /// and 4 more left 2.0x the idle RSS (bench/RESULTS.md, issue 13; issue 16 item 7 asks for at most twice the idle figure).
    /// </summary>
    private const long WorthTrimmingResidentBytes = 16 * 1024 * 1024;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The timers stop on shutdown by being disposed (StopOn): the loops end, nothing throws.
        var firstTrafficTrimmed = await TrimAfterStartAsync(firstTraffic, stoppingToken).ConfigureAwait(false);
        using var timer = new PeriodicTimer(Period);
        using var stop = timer.StopOn(stoppingToken);
        var last = GC.GetTotalAllocatedBytes();
        var sinceTrim = 0L;
        var quietInARow = 0;
        var residentAfterTrim = Resident();
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            var now = GC.GetTotalAllocatedBytes();
            var delta = now - last;
            last = now;
            sinceTrim += delta;
            quietInARow = delta < QuietBytes ? quietInARow + 1 : 0;
            var quiet = quietInARow >= QuietSamples;
            // The first requests after a quiet start run code start-up did not (see TrimAfterStartAsync): once, after
            // the first traffic that came later than the start window, the first quiet period trims too.
            var firstQuietAfterTraffic = !firstTrafficTrimmed && firstTraffic.SeenSinceArmed && quiet;
            if (firstQuietAfterTraffic) firstTrafficTrimmed = true;
            else if (!quiet) continue;
            else if (sinceTrim < WorthTrimmingBytes && PooledFreeBytes() < WorthTrimmingPooledBytes
                && (quietInARow != QuietSamples || Resident() - residentAfterTrim < WorthTrimmingResidentBytes)) continue;
            Trim();
            sinceTrim = 0;
            quietInARow = 0;
            residentAfterTrim = Resident();
            last = GC.GetTotalAllocatedBytes();
        }
    }

    /// <summary>
    /// Start-up allocates and touches what the steady state never needs again (the host's build, DI, routing):
    /// at the first quiet half second the idle RSS fell from 37.6 to ~20 MiB (issue 13, bench/RESULTS.md). The first
    /// request runs code of its own once (the router's tables, the engine's first handle and connection): when it comes
    /// after that trim, RSS stayed ~5.5 MiB higher (23.9 -> 29.8 MiB, the executable's pages faulted back in), so the
    /// first quiet half second after the first request that follows the start-up trim (within the start window) trims
    /// once more. Returns whether that second trim ran (otherwise the periodic loop runs it after the first request).
    /// </summary>
    private static async Task<bool> TrimAfterStartAsync(FirstTraffic firstTraffic, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(StartPeriod);
        using var stop = timer.StopOn(stoppingToken);
        var last = GC.GetTotalAllocatedBytes();
        var deadline = Environment.TickCount64 + (long)StartWindow.TotalMilliseconds;
        var trimmed = false;
        while (Environment.TickCount64 < deadline && await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            var now = GC.GetTotalAllocatedBytes();
            var quiet = now - last < StartQuietBytes;
            last = now;
            if (!quiet) continue;
            if (!trimmed)
            {
                // Armed before the trim, not after it: a request that arrives while the trim runs (a caller can see the
                // code drop before Trim returns) counts as the first traffic, and its code goes at the next quiet sample.
                // Armed afterwards, such a request was missed and its code stayed resident for good (an E2E test that
                // sends its request on seeing the drop failed once under a loaded CI run).
                firstTraffic.Arm();
                Trim();
                trimmed = true;
                last = GC.GetTotalAllocatedBytes();
            }
            else if (firstTraffic.SeenSinceArmed)
            {
                Trim();
                return true;
            }
        }
        return false;
    }

    /// <summary>The process's resident set (VmRSS) in bytes, 0 where /proc is not there.</summary>
    private static long Resident() => ProcessFacts.ResidentBytes() ?? 0;

    private static long PooledFreeBytes() => HoodyCurl.Kernel.Memory.BlockMemoryPool.Bodies.FreeBytes + ServerMemoryPools.FreeBytes;

    internal static void Trim()
    {
        // Pooled SQLite connections each keep a page cache of up to 2 MiB; idle, they are only memory.
        HoodyCurl.Kernel.Db.Database.ClearPools();
        // Free response-body blocks kept from the burst (up to 8 MiB): the collection below frees them.
        HoodyCurl.Kernel.Memory.BlockMemoryPool.Bodies.Trim();
        ServerMemoryPools.Trim(); // Kestrel's free blocks
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _ = MallocTrim(0);
                ReleaseImagePages();
            }
            catch (EntryPointNotFoundException) { } // not glibc (musl): nothing to trim
            catch (DllNotFoundException) { }
        }
    }

    /// <summary>
    /// Drops the executable's clean pages from this process's page tables (madvise MADV_DONTNEED on its
    /// read-only, private, file-backed mappings that hold no private copy). They stay in the kernel's page
    /// cache, so a page touched again costs a minor fault, not a disk read; the mappings' contents are the
    /// file's, unchanged. Start-up runs code (host build, DI, routing set-up) that the relay path never runs
    /// again: 9 of the image's 15 resident MiB. Only the executable's own mappings, which live as long as the
    /// process, are touched; a mapping with any anonymous (copy-on-write) page, such as the relocated RELRO
    /// data, is left alone.
    /// </summary>
    internal static long ReleaseImagePages()
    {
        // The runtime's own resolution of /proc/self/exe (the path smaps names the mapping by), read once per process.
        var exe = Environment.ProcessPath;
        if (string.IsNullOrEmpty(exe)) return 0;
        long released = 0;
        nint start = 0, end = 0;
        var candidate = false;
        string[] lines;
        try { lines = File.ReadAllLines("/proc/self/smaps"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0; // /proc restricted (hardened container): nothing released, and the trimmer (and host) go on
        }
        foreach (var line in lines)
        {
            if (TryParseMapping(line, out var s, out var e, out var perms, out var path))
            {
                // Read-only (no write), private mappings of the executable only.
                candidate = path == exe && perms.Length >= 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p';
                (start, end) = (s, e);
            }
            else if (candidate && line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                candidate = false;
                if (IsZeroKb(line.AsSpan("Anonymous:".Length)) && Madvise(start, (nuint)(end - start), MadvDontNeed) == 0)
                    released += end - start;
            }
        }
        return released;
    }

    /// <summary>A mapping's header line in smaps: `start-end perms offset dev inode [path]`.</summary>
    private static bool TryParseMapping(string line, out nint start, out nint end, out string perms, out string path)
    {
        start = end = 0;
        perms = path = "";
        var parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 5) return false;
        var dash = parts[0].IndexOf('-');
        if (dash <= 0 || !long.TryParse(parts[0].AsSpan(0, dash), System.Globalization.NumberStyles.HexNumber, null, out var s)
            || !long.TryParse(parts[0].AsSpan(dash + 1), System.Globalization.NumberStyles.HexNumber, null, out var e))
            return false;
        (start, end, perms) = ((nint)s, (nint)e, parts[1]);
        path = parts.Length == 6 ? parts[5].Trim() : "";
        return end > start;
    }

    private static bool IsZeroKb(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        return value.StartsWith("0 ", StringComparison.Ordinal) || value.SequenceEqual("0");
    }

    private const int MadvDontNeed = 4;

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [LibraryImport("libc.so.6", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
