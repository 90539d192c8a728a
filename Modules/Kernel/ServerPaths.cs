// Error answers never show absolute server paths (issue 15): the host registers its storage dir and
// every ApiError message passes through Redact, which turns "/srv/data/downloads/x" into
// "<storage-dir>/downloads/x". Exception texts (IOException and friends) carry such paths.
namespace HoodyCurl.Kernel;

public static class ServerPaths
{
    private static volatile (string Root, string Label)[] _roots = [];
    private static readonly Lock Gate = new();

    /// <summary>Registers <paramref name="root"/> (an absolute folder) to be shown as <paramref name="label"/>.</summary>
    public static void Register(string root, string label)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var trimmed = Path.TrimEndingDirectorySeparator(root);
        lock (Gate)
        {
            if (_roots.Any(r => r.Root == trimmed)) return;
            // Longest first, so a nested root wins over its parent.
            (string Root, string Label)[] next = [.. _roots, (trimmed, label)];
            _roots = [.. next.OrderByDescending(r => r.Root.Length)];
        }
    }

    public static string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var (root, label) in _roots)
            if (text.Contains(root, StringComparison.Ordinal)) text = text.Replace(root, label, StringComparison.Ordinal);
        return text;
    }
}
