// The engine as the host builds it (the Sessions and Requests modules wired from real flags, real libcurl,
// a real SQLite file), in its own storage folder: shared by the engine's unit tests.
using System.CommandLine;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests.Engine;
using HoodyCurl.Sessions;
using Microsoft.Extensions.DependencyInjection;

namespace HoodyCurl.Requests.Tests.Engine;

/// <summary>The executor as the host builds it, from flags, in its own storage folder.</summary>
internal sealed class EngineHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly string _dir;

    private EngineHarness(ServiceProvider services, string dir)
    {
        _services = services;
        _dir = dir;
        Executor = services.GetRequiredService<RequestExecutor>();
        Metrics = services.GetRequiredService<MetricsRegistry>();
    }

    public RequestExecutor Executor { get; }
    public MetricsRegistry Metrics { get; }

    public static EngineHarness Start(params string[] extraFlags) => Start(tune: null, extraFlags);

    /// <summary>The engine from flags, with the options the flags built changed by <paramref name="tune"/> (internal settings).</summary>
    public static EngineHarness Start(Func<RequestsOptions, RequestsOptions>? tune, params string[] extraFlags)
    {
        var dir = Path.Combine(Path.GetTempPath(), "hc-executor-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var command = new RootCommand();
        HostSettings.AddFlags(command);
        IModule[] modules = [new SessionsModule(), new RequestsModule()];
        foreach (var module in modules) module.AddFlags(command);
        var flags = command.Parse(["--storage-dir", dir, "--allow-cidr", "127.0.0.1/32", "--transfer-threads", "1", .. extraFlags]);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(new MetricsRegistry());
        services.AddSingleton(new Database(dir));
        foreach (var module in modules) module.AddServices(services, flags);
        if (tune is not null)
        {
            var built = (RequestsOptions)services.Last(d => d.ServiceType == typeof(RequestsOptions)).ImplementationInstance!;
            services.AddSingleton(tune(built)); // the last registration is the one resolved
        }
        return new EngineHarness(services.BuildServiceProvider(), dir);
    }

    private static readonly System.Text.RegularExpressions.Regex Sample =
        new(@"^(?<name>[a-z_]+(\{[^}]*\})?) (?<value>[0-9.e+-]+)$", System.Text.RegularExpressions.RegexOptions.Multiline);

    /// <summary>The value of one sample of /metrics (name with its labels, as rendered), 0 when absent.</summary>
    public double Metric(string name) =>
        Sample.Matches(Metrics.Render()).Where(m => m.Groups["name"].Value == name)
            .Select(m => double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        Database.ClearPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
