namespace HoodyCurl.Kernel.Flags;

/// <summary>A flag value that parsed but is not acceptable. The host prints it and exits 2.</summary>
public sealed class FlagException(string flag, string message) : Exception($"{flag}: {message}")
{
    public string Flag { get; } = flag;
}
