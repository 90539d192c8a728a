// The one start-up line an operator reads first: version, the real listen address (the kernel's port
// when --listen asked for 0), the storage dir, the SSRF policy and the main limits.
using HoodyCurl.Jobs;
using HoodyCurl.Kernel;
using HoodyCurl.Requests;
using HoodyCurl.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Host;

internal static class StartupSummary
{
    public static void Log(ILogger log, HostSettings settings, IServiceProvider services)
    {
        if (!log.IsEnabled(LogLevel.Information)) return;
        var requests = services.GetService<RequestsOptions>();
        var jobs = services.GetService<JobsOptions>();
        var schedules = services.GetService<SchedulingOptions>();
        var ssrf = requests?.Ssrf;
        var policy = ssrf is null ? "-" : string.Join(' ',
            "default-deny" + (ssrf.AllowPrivateNetworks ? "(private networks allowed)" : ""),
            "allow=[" + string.Join(',', ssrf.AllowCidrs) + "]",
            "deny=[" + string.Join(',', ssrf.DenyCidrs) + "]",
            "resolve=" + ssrf.Resolve.Count);
        var limits = string.Join(' ', new[]
        {
            requests is null ? null : $"max-request-body-bytes={requests.MaxRequestBodyBytes}",
            requests is null ? null : $"max-concurrent-sync={requests.MaxConcurrentSync}",
            requests is null ? null : $"max-timeout-secs={requests.Limits.MaxTimeoutSecs}",
            jobs is null ? null : $"max-concurrent-jobs={jobs.MaxConcurrentJobs}",
            jobs is null ? null : $"max-pending-jobs={jobs.MaxPendingJobs}",
            schedules is null ? null : $"schedules={(schedules.Enabled ? "on" : "off")}",
            $"shutdown-timeout-secs={settings.ShutdownTimeoutSecs}",
        }.Where(p => p is not null));
        Host.Log.Started(log, RequestsOptions.Version, ListenSocket.Format(settings.Listen), settings.StorageDir, policy, limits);
    }
}
