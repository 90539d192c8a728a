// hoody-curl: a per-container sidecar that executes HTTP requests for its callers through libcurl.
// This file is the composition root: parse flags, build each module's options and services, serve.
using System.CommandLine;
using HoodyCurl.Host;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Flags;

// Exit codes: 0 after --help/--version or a clean shutdown, 2 for a usage error (unknown flag, bad
// value), 1 for a run-time failure. Nothing native (libcurl, SQLite) runs before the flags are
// accepted: a background libcurl init racing the exit of --help crashed the process (issue 15).
IModule[] modules =
[
    new HoodyCurl.Sessions.SessionsModule(),
    new HoodyCurl.Storage.StorageModule(),
    new HoodyCurl.Cache.CacheModule(),
    new HoodyCurl.Requests.RequestsModule(),
    new HoodyCurl.Jobs.JobsModule(),
    new HoodyCurl.Scheduling.SchedulingModule(),
    new HoodyCurl.Realtime.RealtimeModule(),
    new HoodyCurl.Links.LinksModule(),
];

var root = new RootCommand("hoody-curl — an HTTP sidecar that executes requests through libcurl. Configured only by flags.");
HostSettings.AddFlags(root);
HoodyCurl.Kernel.Sse.SseSettings.AddFlags(root);
HoodyCurl.Kernel.Memory.BufferBudget.AddFlags(root);
foreach (var module in modules) module.AddFlags(root);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"hoody-curl: {UsageMessages.Explain(error.Message)}");
    Console.Error.WriteLine("Run 'hoody-curl --help' for the list of flags.");
    return 2;
}
if (parsed.Action is not null) return parsed.Invoke(); // --help, --version

try
{
    return await Server.RunAsync(parsed, modules);
}
catch (FlagException e)
{
    Console.Error.WriteLine($"hoody-curl: {e.Message}");
    Console.Error.WriteLine("Run 'hoody-curl --help' for the list of flags.");
    return 2;
}
catch (StartupException e)
{
    HoodyCurl.Requests.Engine.CurlRuntime.Settle();
    Console.Error.WriteLine($"hoody-curl: {e.Message}");
    return 1;
}
catch (Exception e)
{
    HoodyCurl.Requests.Engine.CurlRuntime.Settle();
    Console.Error.WriteLine($"hoody-curl: {e.GetType().Name}: {e.Message}");
    return 1;
}
