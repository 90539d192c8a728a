using Microsoft.Extensions.Hosting;

namespace HoodyCurl.TestUpstream;

/// <summary>
/// Replaces the default console lifetime, which would hook SIGINT/SIGTERM for every server instance
/// and, at process exit, block for the shutdown timeout on each server a test forgot to dispose.
/// A test upstream lives exactly as long as its owner says.
/// </summary>
internal sealed class PassiveHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
