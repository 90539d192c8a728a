// The path rules of the downloads root (docs/api.md D14, docs/api.md (Storage)): the three index paths of a saved
// file, the save_path rules, the derived file name, and the check every path from a caller passes
// before it is even looked up. Pure functions; the file system is FileStore's business.
using System.Globalization;
using System.Text;

namespace HoodyCurl.Storage;

/// <summary>Where one saved file lives, relative to the downloads root.</summary>
internal sealed record StoragePlan(string Id, string JobPath, string DomainPath, string DatePath)
{
    public IReadOnlyList<string> Paths => [JobPath, DomainPath, DatePath];
}

internal static class StoragePaths
{
    public const string ByJob = "by-job";
    public const string ByDomain = "by-domain";
    public const string ByDate = "by-date";

    /// <summary>Temp files of saves in progress; never listed or served, emptied at start-up.</summary>
    public const string Partial = ".partial";

    /// <summary>The file name when save_path is absent and the URL's last path segment is not usable.</summary>
    public const string DefaultFileName = "response.bin";

    /// <summary>Longest path component, in UTF-8 bytes (NAME_MAX).</summary>
    public const int MaxComponentBytes = 255;

    /// <summary>Longest save_path, in characters (as the request validation allows).</summary>
    public const int MaxSavePathLength = 1024;

    /// <summary>Longest path a caller may ask for.</summary>
    public const int MaxRequestPathLength = 4096;

    public static StoragePlan Plan(string id, string? savePath, string sourceUrl, DateTimeOffset createdAt)
    {
        var name = savePath ?? DerivedFileName(sourceUrl);
        return new StoragePlan(
            id,
            $"{ByJob}/{id}/{name}",
            $"{ByDomain}/{HostFolder(sourceUrl)}/{id}",
            $"{ByDate}/{createdAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/{id}");
    }

    /// <summary>
    /// Why <paramref name="savePath"/> is not acceptable (docs/api.md (Storage): not empty, relative, no `.`/`..`
    /// or empty components, no backslash, NUL or control characters, components of at most 255 bytes),
    /// or null when it is.
    /// </summary>
    public static string? SavePathProblem(string savePath) =>
        savePath.Length == 0 ? "must not be empty" :
        savePath.Length > MaxSavePathLength ? $"must be at most {MaxSavePathLength} characters" :
        savePath[0] is '/' or '\\' ? "must be relative, not rooted" :
        savePath.Length >= 2 && savePath[1] == ':' && char.IsAsciiLetter(savePath[0]) ? "must not start with a drive letter" :
        CommonProblem(savePath);

    /// <summary>
    /// Why a path a caller sent to GET/DELETE /storage/{path} cannot name a stored file, or null.
    /// Traversal (`..`), absolute and rooted paths, backslashes, NUL and control characters are refused
    /// before any lookup.
    /// </summary>
    public static string? RequestPathProblem(string path) =>
        path.Length == 0 ? "is empty" :
        path.Length > MaxRequestPathLength ? $"is longer than {MaxRequestPathLength} characters" :
        path[0] is '/' or '\\' ? "must be relative to the downloads root, not absolute" :
        path.Length >= 2 && path[1] == ':' && char.IsAsciiLetter(path[0]) ? "must not start with a drive letter" :
        CommonProblem(path);

    private static string? CommonProblem(string path)
    {
        foreach (var c in path)
        {
            if (c == '\\') return "must not contain a backslash";
            if (c < 0x20 || c == 0x7f) return "must not contain NUL or control characters";
        }
        foreach (var part in path.Split('/'))
        {
            if (part is "" or "." or "..") return "must not contain empty, '.' or '..' components";
            if (Encoding.UTF8.GetByteCount(part) > MaxComponentBytes) return $"must not have a component longer than {MaxComponentBytes} bytes";
        }
        return null;
    }

    /// <summary>The last URL path segment, percent-decoded, when it is a usable file name; else response.bin.</summary>
    public static string DerivedFileName(string sourceUrl)
    {
        if (!Uri.TryCreate(sourceUrl, UriKind.Absolute, out var uri)) return DefaultFileName;
        var path = uri.AbsolutePath;
        var slash = path.LastIndexOf('/');
        var segment = Uri.UnescapeDataString(slash >= 0 ? path[(slash + 1)..] : path);
        return segment.Contains('/') || CommonProblem(segment) is not null ? DefaultFileName : segment;
    }

    /// <summary>The by-domain folder: the URL's host, lowercase ASCII (IDN as punycode, IPv6 without brackets).</summary>
    public static string HostFolder(string sourceUrl)
    {
        if (!Uri.TryCreate(sourceUrl, UriKind.Absolute, out var uri)) return "unknown";
        string host;
        try
        {
            host = uri.IdnHost;
        }
        catch (UriFormatException)
        {
            return "unknown";
        }
        host = host.Trim('[', ']').ToLowerInvariant();
        var safe = new StringBuilder(host.Length);
        foreach (var c in host) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ':' ? c : '_');
        var folder = safe.ToString();
        return folder is "" or "." or ".." || folder.Length > MaxComponentBytes ? "unknown" : folder;
    }
}
