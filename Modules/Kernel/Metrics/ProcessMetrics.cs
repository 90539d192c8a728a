// Process facts sampled at scrape time from /proc (Linux): the standard process_* family.
using System.Diagnostics;

namespace HoodyCurl.Kernel.Metrics;

public static class ProcessMetrics
{
    public static void Register(MetricsRegistry registry, DateTimeOffset startedAt)
    {
        var rss = registry.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        var fds = registry.Gauge("process_open_fds", "Number of open file descriptors.");
        var start = registry.Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
        var cpu = registry.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
        var threads = registry.Gauge("process_threads", "Number of OS threads in the process.");
        var heap = registry.Gauge("dotnet_gc_heap_bytes", "Bytes in the managed heap.");
        var allocated = registry.Counter("dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since start.");
        var collections = registry.Counter("dotnet_gc_collections_total", "Garbage collections since start, by generation.", "generation");
        var generations = new[] { collections.WithLabels("0"), collections.WithLabels("1"), collections.WithLabels("2") };
        start.Set(startedAt.ToUnixTimeMilliseconds() / 1000.0);
        registry.BeforeScrape(() =>
        {
            rss.Set(ProcessFacts.ResidentBytes() ?? 0);
            fds.Set(ProcessFacts.OpenFileDescriptors() ?? 0);
            using var process = Process.GetCurrentProcess();
            cpu.IncTo(process.TotalProcessorTime.TotalSeconds);
            threads.Set(process.Threads.Count);
            heap.Set(GC.GetTotalMemory(false));
            allocated.IncTo(GC.GetTotalAllocatedBytes(false));
            for (var g = 0; g < generations.Length; g++) generations[g].IncTo(GC.CollectionCount(g));
        });
    }
}

public static class ProcessFacts
{
    /// <summary>VmRSS from /proc/self/status, in bytes; null where /proc is not there.</summary>
    public static long? ResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var digits = new string(line.AsSpan(6).Trim().ToString().TakeWhile(char.IsDigit).ToArray());
                return long.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    public static int? OpenFileDescriptors()
    {
        try { return Directory.GetFileSystemEntries("/proc/self/fd").Length; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
