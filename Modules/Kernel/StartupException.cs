namespace HoodyCurl.Kernel;

/// <summary>
/// A start-up failure the operator can act on (port in use, storage dir unusable or owned by another
/// process). The host prints <c>hoody-curl: &lt;what&gt; (&lt;where&gt;)</c> on one line and exits 1.
/// </summary>
public sealed class StartupException(string what, string where, Exception? inner = null) : Exception($"{what} ({where})", inner)
{
    public string What { get; } = what;
    public string Where { get; } = where;
}
