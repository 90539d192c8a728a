// Waits for the test upstream to see a request aborted. In about one full E2E run in five on a 2-core machine, one
// channel test (a request.cancel, or sse_max_duration on the channel) timed out here after 30 s while the sidecar
// had already answered `cancelled`/`sse_max_duration`; it does not reproduce alone. On a timeout this collects
// what is needed to tell a connection the sidecar kept open from an abort the upstream missed: the sockets
// between the two (ss), the sidecar's engine and channel series, and the upstream trace's counters.
using System.Diagnostics;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Harness;

public static class AbortDiagnostics
{
    public static async Task WaitAbortedAsync(TestUpstreamServer upstream, string trace, Sidecar sidecar)
    {
        try
        {
            await upstream.Trace(trace).Aborted.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            string sockets;
            try
            {
                using var ss = Process.Start(new ProcessStartInfo("ss", $"-tnpi state all ( dport = :{upstream.Port} or sport = :{upstream.Port} )") { RedirectStandardOutput = true })!;
                sockets = await ss.StandardOutput.ReadToEndAsync();
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                sockets = "(ss not available: " + e.Message + ")";
            }
            var metrics = await sidecar.Client.GetStringAsync("/metrics");
            var engine = string.Join("\n", metrics.Split('\n').Where(l => !l.StartsWith('#')
                && (l.Contains("active", StringComparison.Ordinal) || l.Contains("pool", StringComparison.Ordinal)
                    || l.Contains("channel", StringComparison.Ordinal) || l.Contains("connections", StringComparison.Ordinal))));
            var t = upstream.Trace(trace);
            throw new TimeoutException(
                $"the upstream did not see the request {trace} aborted within 30 s (hits {t.Hits}, active {t.Active}, finished {t.Finished.IsCompleted})\n"
                + $"--- sockets to/from the upstream (port {upstream.Port})\n{sockets}\n--- sidecar series\n{engine}");
        }
    }
}
