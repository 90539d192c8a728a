// SIGINT/SIGTERM handling on top of the host's own (which starts the graceful drain): the first signal
// logs what is being drained, a second one says what is still running, a third exits at once with
// code 1. Jobs abandoned that way are recovered as "interrupted by restart" on the next start.
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Host;

internal sealed class ShutdownSignals : IDisposable
{
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _log;
    private readonly int _timeoutSecs;
    private readonly Func<long> _requests;
    private readonly Func<long> _jobs;
    private readonly PosixSignalRegistration[] _registrations;
    private int _count;

    public ShutdownSignals(IHostApplicationLifetime lifetime, ILogger log, int timeoutSecs, Func<long> requests, Func<long> jobs)
    {
        _lifetime = lifetime;
        _log = log;
        _timeoutSecs = timeoutSecs;
        _requests = requests;
        _jobs = jobs;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>True when a third signal ended the drain early.</summary>
    public bool Forced { get; private set; }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // never the runtime's default (immediate) termination
        var count = Interlocked.Increment(ref _count);
        var (requests, jobs) = (_requests(), _jobs());
        switch (count)
        {
            case 1:
                // Stopping first: once the line is out, /health already says ready=false (the probe answers 503).
                _lifetime.StopApplication();
                Log.Stopping(_log, context.Signal.ToString(), requests, jobs, _timeoutSecs);
                break;
            case 2:
                Log.StillDraining(_log, requests, jobs);
                break;
            default:
                Forced = true;
                Log.ForcedExit(_log, requests, jobs);
                // The console logger writes on a background thread that Exit does not wait for.
                Console.Error.WriteLine($"hoody-curl: forced exit on the third signal, abandoning {requests} requests and {jobs} running jobs");
                Environment.Exit(1);
                break;
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
    }
}
