// A fresh folder per test (TUnit runs tests in parallel), removed afterwards as well as it can be. One copy, linked
// into each module's test project (tests/Directory.Build.props), under a folder named after that project.
namespace HoodyCurl.Tests.Shared;

internal sealed class TempDir : IDisposable
{
    private static readonly string Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(),
        "hoody-" + (typeof(TempDir).Assembly.GetName().Name ?? "tests").Replace("HoodyCurl.", "", StringComparison.Ordinal).ToLowerInvariant().Replace(".", "-", StringComparison.Ordinal));

    public TempDir()
    {
        Path = System.IO.Path.Combine(Root, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
