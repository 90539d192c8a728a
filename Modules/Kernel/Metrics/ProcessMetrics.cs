// Process facts sampled at scrape time from /proc (Linux): the standard process_* family.
using System.Diagnostics;

namespace HoodyCurl.Kernel.Metrics;

public static class ProcessMetrics
{
    public static void Register(MetricsRegistry registry, DateTimeOffset startedAt)
    {
        registry.AddCollector(writer =>
        {
            writer.Header("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
            writer.Sample("process_resident_memory_bytes", [], [], ProcessFacts.ResidentBytes() ?? 0);
            writer.Header("process_open_fds", "Number of open file descriptors.", "gauge");
            writer.Sample("process_open_fds", [], [], ProcessFacts.OpenFileDescriptors() ?? 0);
            writer.Header("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge");
            writer.Sample("process_start_time_seconds", [], [], startedAt.ToUnixTimeMilliseconds() / 1000.0);
            using var process = Process.GetCurrentProcess();
            writer.Header("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter");
            writer.Sample("process_cpu_seconds_total", [], [], process.TotalProcessorTime.TotalSeconds);
            writer.Header("process_threads", "Number of OS threads in the process.", "gauge");
            writer.Sample("process_threads", [], [], process.Threads.Count);
            writer.Header("dotnet_gc_heap_bytes", "Bytes in the managed heap.", "gauge");
            writer.Sample("dotnet_gc_heap_bytes", [], [], GC.GetTotalMemory(false));
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
