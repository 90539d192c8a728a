// Waits for the test upstream to see a request aborted. On a timeout it reports what tells a connection the
// sidecar kept open from an abort the upstream missed: the sockets between the two (ss), the sidecar's engine
// and channel series, and the upstream trace's counters. That report found the cause of a flake in ~1 of 5
// full E2E runs (a TIME-WAIT socket on the sidecar's side, the upstream handler ended, the trace's abort never
// signalled: the test upstream's TraceMiddleware lost the abort when a failed write ended the handler before
// Kestrel cancelled RequestAborted; fixed there).
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
