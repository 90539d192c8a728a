// hoody-curl: a per-container sidecar that executes HTTP requests for its callers through libcurl.
// This file is the composition root: parse flags, build each module's options and services, serve.
using System.CommandLine;
using HoodyCurl.Host;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Flags;

HoodyCurl.Requests.Engine.CurlRuntime.Preload(); // overlaps libcurl's load with the host's start-up

IModule[] modules =
[
    new HoodyCurl.Sessions.SessionsModule(),
    new HoodyCurl.Storage.StorageModule(),
    new HoodyCurl.Requests.RequestsModule(),
    new HoodyCurl.Jobs.JobsModule(),
    new HoodyCurl.Scheduling.SchedulingModule(),
    new HoodyCurl.Links.LinksModule(),
];

var root = new RootCommand("hoody-curl — an HTTP sidecar that executes requests through libcurl. Configured only by flags.");
HostSettings.AddFlags(root);
foreach (var module in modules) module.AddFlags(root);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"hoody-curl: {error.Message}");
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
    return 2;
}
