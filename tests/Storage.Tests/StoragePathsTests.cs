// The path rules: save_path (rest.md §6.1), caller paths (traversal attempts), the derived file name
// and the by-domain folder.
namespace HoodyCurl.Storage.Tests;

public class StoragePathsTests
{
    private const string Id = "0190a5c4-8d7e-7c3b-9a21-3f5e6d7c8b9a";

    [Test]
    public async Task Plan_puts_one_file_under_its_three_index_paths()
    {
        var plan = StoragePaths.Plan(Id, "reports/2024/monthly.csv", "https://Example.COM:8443/x/y.zip?q=1", new DateTimeOffset(2026, 1, 15, 23, 59, 0, TimeSpan.FromHours(-2)));
        await Assert.That(plan.JobPath).IsEqualTo($"by-job/{Id}/reports/2024/monthly.csv");
        await Assert.That(plan.DomainPath).IsEqualTo($"by-domain/example.com/{Id}");
        await Assert.That(plan.DatePath).IsEqualTo($"by-date/2026-01-16/{Id}"); // the UTC date
        await Assert.That(StoragePaths.Plan(Id, null, "https://example.com/x/y.zip?q=1", DateTimeOffset.UnixEpoch).JobPath).IsEqualTo($"by-job/{Id}/y.zip");
    }

    [Test]
    [Arguments("file.bin")]
    [Arguments("iso/ubuntu.iso")]
    [Arguments("reports/2024/monthly.csv")]
    [Arguments("with space and ünïcode.txt")]
    [Arguments("..hidden-but-not-dotdot")]
    public async Task Relative_save_paths_are_accepted(string path)
    {
        await Assert.That(StoragePaths.SavePathProblem(path)).IsNull();
    }

    [Test]
    [Arguments("")]
    [Arguments("/etc/passwd")]
    [Arguments("\\windows")]
    [Arguments("C:/x")]
    [Arguments("../escape")]
    [Arguments("a/../../escape")]
    [Arguments("a/./b")]
    [Arguments("a//b")]
    [Arguments("a/")]
    [Arguments("a\\b")]
    [Arguments("a\0b")]
    [Arguments("a\nb")]
    [Arguments("a\u007fb")]
    public async Task Bad_save_paths_are_refused(string path)
    {
        await Assert.That(StoragePaths.SavePathProblem(path)).IsNotNull();
    }

    [Test]
    public async Task Over_long_components_are_refused()
    {
        await Assert.That(StoragePaths.SavePathProblem(new string('a', 255))).IsNull();
        await Assert.That(StoragePaths.SavePathProblem(new string('a', 256))).IsNotNull();
        await Assert.That(StoragePaths.SavePathProblem(string.Concat(Enumerable.Repeat("é", 128)))).IsNotNull(); // 256 UTF-8 bytes
    }

    [Test]
    [Arguments("../hoody-curl.db")]
    [Arguments("../../etc/passwd")]
    [Arguments("by-job/../../hoody-curl.db")]
    [Arguments("by-job/x/..")]
    [Arguments("/etc/passwd")]
    [Arguments("//etc/passwd")]
    [Arguments("C:\\Windows")]
    [Arguments("by-job\\x")]
    [Arguments("by-job/x\0.txt")]
    [Arguments("by-job/./x")]
    [Arguments("")]
    public async Task Traversal_and_absolute_request_paths_are_refused(string path)
    {
        await Assert.That(StoragePaths.RequestPathProblem(path)).IsNotNull();
    }

    [Test]
    public async Task A_stored_path_passes_the_request_check()
    {
        var plan = StoragePaths.Plan(Id, "a/b.txt", "http://127.0.0.1:8080/x", DateTimeOffset.UtcNow);
        foreach (var p in plan.Paths) await Assert.That(StoragePaths.RequestPathProblem(p)).IsNull();
    }

    [Test]
    [Arguments("https://example.com/files/report.pdf", "report.pdf")]
    [Arguments("https://example.com/files/my%20report.pdf?x=1#f", "my report.pdf")]
    [Arguments("https://example.com/stream-bytes/209715200", "209715200")]
    [Arguments("https://example.com/", "response.bin")]
    [Arguments("https://example.com", "response.bin")]
    [Arguments("https://example.com/dir/", "response.bin")]
    [Arguments("https://example.com/a%2F..%2Fb", "response.bin")]
    [Arguments("https://example.com/%2e%2e", "response.bin")]
    [Arguments("https://example.com/x%00y", "response.bin")]
    [Arguments("not a url", "response.bin")]
    public async Task File_name_is_the_last_url_segment_else_response_bin(string url, string expected)
    {
        await Assert.That(StoragePaths.DerivedFileName(url)).IsEqualTo(expected);
    }

    [Test]
    [Arguments("https://API.Example.com:444/x", "api.example.com")]
    [Arguments("http://127.0.0.1:8080/", "127.0.0.1")]
    [Arguments("http://[::1]:8080/", "::1")]
    [Arguments("https://bücher.example/", "xn--bcher-kva.example")]
    [Arguments("garbage", "unknown")]
    public async Task Domain_folder_is_the_lowercase_ascii_host(string url, string expected)
    {
        await Assert.That(StoragePaths.HostFolder(url)).IsEqualTo(expected);
    }
}
