// Gives memory back after load (issue 16 item 7). With the workstation GC nothing collects while the
// sidecar is idle, so a heap grown under a burst (200 MiB after a soak) stayed committed forever, glibc
// kept the native arenas libcurl and OpenSSL had used, and every pooled SQLite connection its page cache. Every few seconds this looks at how much
// was allocated since the last look; once the process has gone quiet after activity, it closes the idle
// SQLite connections, runs one aggressive, compacting collection (which decommits the freed heap) and malloc_trim(0) (which returns
// free native arena pages), then waits for the next burst. An idle sidecar pays one check per period.
using System.Runtime;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace HoodyCurl.Host;

internal sealed partial class MemoryTrimmer : BackgroundService
{
    /// <summary>How often allocation is sampled.</summary>
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(5);
    /// <summary>Below this many bytes allocated in one period the process counts as quiet.</summary>
    private const long QuietBytes = 4 * 1024 * 1024;
    /// <summary>Allocation since the last trim that makes another trim worth it.</summary>
    private const long WorthTrimmingBytes = 64 * 1024 * 1024;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        var last = GC.GetTotalAllocatedBytes();
        var sinceTrim = 0L;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var now = GC.GetTotalAllocatedBytes();
                var delta = now - last;
                last = now;
                sinceTrim += delta;
                if (delta >= QuietBytes || sinceTrim < WorthTrimmingBytes) continue;
                Trim();
                sinceTrim = 0;
                last = GC.GetTotalAllocatedBytes();
            }
        }
        catch (OperationCanceledException)
        {
            // shutting down
        }
    }

    internal static void Trim()
    {
        // Pooled SQLite connections each keep a page cache of up to 2 MiB; idle, they are only memory.
        HoodyCurl.Kernel.Db.Database.ClearPools();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux())
        {
            try { _ = MallocTrim(0); }
            catch (EntryPointNotFoundException) { } // not glibc (musl): nothing to trim
            catch (DllNotFoundException) { }
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
