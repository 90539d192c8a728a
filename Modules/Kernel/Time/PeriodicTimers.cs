// Stopping a PeriodicTimer loop without an exception. WaitForNextTickAsync(token) ends a cancelled wait with an
// OperationCanceledException whose stack trace the runtime captures and formats into a string
// (ExceptionDispatchInfo.SetCurrentStackTrace): in a Native AOT image the first one builds the whole image's method-name
// map (~140 page faults, seen in a perf trace of every SIGTERM, where the background services' loops are cancelled), and
// every WebSocket channel's idle loop paid for one when its connection closed (issue 13).
namespace HoodyCurl.Kernel.Time;

public static class PeriodicTimers
{
    /// <summary>
    /// Disposes <paramref name="timer"/> when <paramref name="token"/> is cancelled (at once if it already is), so a
    /// pending or later <c>WaitForNextTickAsync()</c> (without the token) completes with false. Dispose the registration
    /// with the timer.
    /// </summary>
    public static CancellationTokenRegistration StopOn(this PeriodicTimer timer, CancellationToken token) =>
        token.UnsafeRegister(static t => ((PeriodicTimer)t!).Dispose(), timer);
}
