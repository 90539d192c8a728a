// save_path is checked at request validation with the storage module's rule (one copy): the component
// length limit that only saving knew is now refused up front, with the same message.
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Validation;
using HoodyCurl.Storage;

namespace HoodyCurl.Requests.Tests.Validation;

public class SavePathRuleTests
{
    [Test]
    [Arguments("a/b.bin")]
    [Arguments("ünïcode/名前.txt")]
    public async Task Acceptable_paths_pass_unchanged(string path)
    {
        await Assert.That(RequestRules.SavePath(path)).IsEqualTo(path);
        await Assert.That(StorageRules.SavePathProblem(path)).IsNull();
    }

    [Test]
    [Arguments("")]
    [Arguments("/abs")]
    [Arguments("C:x")]
    [Arguments("a\\b")]
    [Arguments("a/../b")]
    [Arguments("a//b")]
    [Arguments("a/\u0001")]
    public async Task Refused_paths_give_the_storage_rule_message(string path)
    {
        var problem = StorageRules.SavePathProblem(path);
        await Assert.That(problem).IsNotNull();
        var error = await Assert.That(() => RequestRules.SavePath(path)).Throws<ApiErrorException>();
        await Assert.That(error!.Error.Message).IsEqualTo($"field 'save_path' {problem}");
    }

    [Test]
    public async Task A_component_over_255_bytes_is_refused_at_validation()
    {
        var path = "dir/" + new string('é', 128); // 256 UTF-8 bytes in 128 characters
        var error = await Assert.That(() => RequestRules.SavePath(path)).Throws<ApiErrorException>();
        await Assert.That(error!.Error.Status).IsEqualTo(400);
        await Assert.That(error.Error.Message).Contains("255 bytes");
    }
}
