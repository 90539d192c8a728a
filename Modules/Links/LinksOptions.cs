// The links module's settings. To add a setting: a property here with its default in the XML doc, a
// flag in LinksModule.AddFlags, its validation in LinksModule.AddServices, a row in the README.
namespace HoodyCurl.Links;

public sealed record LinksOptions
{
    /// <summary>History entries kept per link (`--link-history-max`); the oldest are dropped. Default 1000.</summary>
    public int HistoryMax { get; init; } = 1000;

    /// <summary>Longest link `name`, in characters. Fixed: 256.</summary>
    public int MaxNameLength { get; init; } = 256;

    /// <summary>Most declared `params` per link. Fixed: 32.</summary>
    public int MaxParams { get; init; } = 32;

    /// <summary>Longest param `pattern`, in characters. Fixed: 1024.</summary>
    public int MaxPatternLength { get; init; } = 1024;

    /// <summary>
    /// How long one param pattern may take to match one value before the value is refused. The engine is
    /// linear-time, so this is a backstop, not a budget. Fixed: 1 s.
    /// </summary>
    public TimeSpan PatternTimeout { get; init; } = TimeSpan.FromSeconds(1);
}
