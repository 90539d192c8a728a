// The storage module: its flag, its file store (the IFileStore the doors save through), the start-up
// recovery and the /api/v1/curl/storage endpoints.
using System.CommandLine;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Storage.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Storage;

public sealed class StorageModule : IModule
{
    /// <summary>The downloads folder inside --storage-dir (docs/api.md D14).</summary>
    public const string DownloadsFolder = "downloads";

    private Option<long>? _maxFileBytes;

    public void AddFlags(Command command)
    {
        _maxFileBytes = FlagReader.Define(command, "--max-saved-file-bytes",
            "Largest file one save (save: true) may write, in bytes; 0 means no limit besides the disk", 0L);
    }

    public void AddServices(IServiceCollection services, ParseResult flags)
    {
        if (_maxFileBytes is null) throw new InvalidOperationException("AddFlags must run before AddServices");
        var max = flags.GetValue(_maxFileBytes);
        if (max < 0) throw new FlagException(_maxFileBytes.Name, $"must be zero or a positive integer, got {max}");
        var host = HostSettings.FromFlags(flags);
        var options = new StorageOptions { DownloadsDir = Path.Combine(host.StorageDir, DownloadsFolder), MaxFileBytes = max };
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp => new FileStore(
            options, new StorageIndex(sp.GetRequiredService<Database>()), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("HoodyCurl.Storage"),
            new StorageMetrics(sp.GetRequiredService<MetricsRegistry>())));
        services.AddSingleton<IFileStore>(sp => sp.GetRequiredService<FileStore>());
        // Migrations and the crash recovery run at start-up, before the first request.
        services.AddSingleton<IHostedService>(sp => new StartUp(() => sp.GetRequiredService<FileStore>()));
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints) => endpoints.MapStorage();

    private sealed class StartUp(Func<object> touch) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            touch();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
