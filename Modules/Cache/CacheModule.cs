// The cache module: its flags, the IResponseCache the engine calls, and GET/DELETE /api/v1/curl/cache.
using System.CommandLine;
using HoodyCurl.Cache.Endpoints;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Flags;
using HoodyCurl.Kernel.Metrics;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Cache;

public sealed class CacheModule : IModule
{
    private Option<string?> _namespace = null!;
    private Option<string> _mode = null!;
    private Option<long> _generation = null!, _maxBytes = null!, _maxObject = null!, _maxDecoded = null!;

    public void AddFlags(Command command)
    {
        var d = new CacheOptions();
        _namespace = new Option<string?>("--cache-namespace")
        {
            Description = "Cache namespace ctn:<project>:<container>; with --cache-mode readonly|readwrite it turns the response cache on",
            HelpName = "NAMESPACE",
        };
        command.Options.Add(_namespace);
        _mode = FlagReader.Define(command, "--cache-mode", "Response cache mode: off, readonly (serve hits, never write) or readwrite", "off");
        _generation = FlagReader.Define(command, "--cache-generation", "Cache generation; entries stored under another value are misses (bump it to invalidate everything)", d.Generation);
        _maxBytes = FlagReader.Define(command, "--cache-max-bytes", "Size bound of the cache directory, in bytes (least recently used entries are evicted beyond it)", d.MaxBytes);
        _maxObject = FlagReader.Define(command, "--cache-max-object-bytes", "Largest response stored in the cache, in bytes as received", d.MaxObjectBytes);
        _maxDecoded = FlagReader.Define(command, "--cache-max-object-bytes-decoded", "Largest decoded (compressed: true) body stored in the cache, in bytes", d.MaxObjectBytesDecoded);
    }

    public void AddServices(IServiceCollection services, ParseResult flags)
    {
        var host = HostSettings.FromFlags(flags);
        var mode = flags.GetValue(_mode) switch
        {
            "off" => CacheMode.Off,
            "readonly" => CacheMode.ReadOnly,
            "readwrite" => CacheMode.ReadWrite,
            var other => throw new FlagException(_mode.Name, $"must be off, readonly or readwrite, got '{other}'"),
        };
        var ns = flags.GetValue(_namespace);
        if (ns is not null && !IsNamespace(ns))
            throw new FlagException(_namespace.Name, $"must look like ctn:<project>:<container> (letters, digits, '.', '_', '-'), got '{ns}'");
        if (mode != CacheMode.Off && ns is null) throw new FlagException(_mode.Name, "--cache-mode readonly|readwrite needs --cache-namespace");
        var generation = flags.GetValue(_generation);
        if (generation < 0) throw new FlagException(_generation.Name, $"must be zero or a positive integer, got {generation}");
        var options = new CacheOptions
        {
            Namespace = ns,
            Mode = mode,
            Generation = generation,
            MaxBytes = FlagReader.Positive(flags, _maxBytes),
            MaxObjectBytes = FlagReader.Positive(flags, _maxObject),
            MaxObjectBytesDecoded = FlagReader.Positive(flags, _maxDecoded),
            CacheDir = Path.Combine(host.StorageDir, "cache"),
        };
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton(sp =>
        {
            var registry = sp.GetRequiredService<MetricsRegistry>();
            var cache = new ResponseCache(options, new CacheMetrics(registry), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("HoodyCurl.Cache"));
            registry.BeforeScrape(cache.SampleGauges);
            return cache;
        });
        services.AddSingleton<IResponseCache>(sp => sp.GetRequiredService<ResponseCache>());
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        endpoints.ServiceProvider.GetRequiredService<ResponseCache>(); // the store scans and its metrics exist from start-up
        endpoints.MapCache();
    }

    internal static bool IsNamespace(string ns)
    {
        var parts = ns.Split(':');
        return parts.Length == 3 && parts[0] == "ctn" && parts[1..].All(p => p.Length is > 0 and <= 128 &&
            p.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'));
    }
}
