// Issue 13 (start-up): Native/prefault.c faults in the executable's zero-initialised data (.bss and the runtime's
// .hydrated section) with one madvise call before the runtime starts, instead of ~1,000 single page faults while the
// runtime rehydrates its data. Without it a few dozen of those pages are never touched, so the segment is not fully
// resident; with it every page is.
using System.Globalization;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Host;

public class PrefaultTests
{
    [Test]
    public async Task The_executables_zero_initialised_data_is_resident_in_full_once_started()
    {
        // MADV_POPULATE_WRITE arrived in Linux 5.14; an older kernel ignores the request and the runtime faults as before.
        if (Environment.OSVersion.Version < new Version(5, 14)) Skip.Test($"kernel {Environment.OSVersion.Version} has no MADV_POPULATE_WRITE");
        await using var sidecar = await Sidecar.StartAsync();
        var binary = new FileInfo(Path.GetFullPath(Sidecar.BinaryPath));
        var executable = binary.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? binary.FullName;
        var (size, rss) = ZeroFilledTail(File.ReadAllLines($"/proc/{sidecar.Pid}/smaps"), executable);
        // The published binary's .bss + .hydrated is ~4.3 MiB; a few KiB would mean the wrong mapping was found.
        await Assert.That(size).IsGreaterThan(1024 * 1024);
        await Assert.That(rss).IsEqualTo(size);
    }

    /// <summary>
    /// Size and Rss (bytes) of the anonymous mappings that follow the executable's last file-backed mapping without a
    /// gap: the zero-filled part of its writable segment, which the kernel maps without a file name (madvise may have
    /// split it in two).
    /// </summary>
    private static (long Size, long Rss) ZeroFilledTail(string[] smaps, string executable)
    {
        ulong expectedStart = 0; // where the tail must begin: the end of the executable's last mapping so far
        long size = 0, rss = 0;
        var inTail = false;
        foreach (var line in smaps)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 5 && fields[0].Contains('-') && !fields[0].EndsWith(':'))
            {
                var range = fields[0].Split('-');
                var start = ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var end = ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                var name = fields.Length >= 6 ? string.Join(' ', fields.Skip(5)) : "";
                if (name == executable)
                {
                    expectedStart = end;
                    inTail = false;
                    size = rss = 0;
                }
                else if (name.Length == 0 && expectedStart != 0 && start == expectedStart)
                {
                    inTail = true;
                    expectedStart = end;
                }
                else
                {
                    if (size > 0) return (size, rss);
                    inTail = false;
                }
                continue;
            }
            if (!inTail) continue;
            if (line.StartsWith("Size:", StringComparison.Ordinal)) size += Kib(fields[1]);
            else if (line.StartsWith("Rss:", StringComparison.Ordinal)) rss += Kib(fields[1]);
        }
        return (size, rss);
    }

    private static long Kib(string value) => long.Parse(value, CultureInfo.InvariantCulture) * 1024;
}
