// The contract between the host and a feature module. The host owns the list of modules; a module
// owns its flags, its services, its endpoints and its storage.
using System.CommandLine;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace HoodyCurl.Kernel;

public interface IModule
{
    /// <summary>Adds this module's flags to the root command (each with its documented default).</summary>
    void AddFlags(Command command);

    /// <summary>
    /// Reads this module's flags into its immutable options record, validates them (throwing
    /// <see cref="Flags.FlagException"/> naming the flag) and registers the module's services.
    /// </summary>
    void AddServices(IServiceCollection services, ParseResult flags);

    /// <summary>Maps this module's HTTP endpoints.</summary>
    void MapEndpoints(IEndpointRouteBuilder endpoints);
}
