// JsonErrors names the position (1-based line and byte column) and the problem in words, whether the
// runtime's texts are present (JIT) or stripped to resource keys (the AOT binary).
using System.Text.Json;
using HoodyCurl.Kernel.Http;

namespace HoodyCurl.Kernel.Tests.Http;

public class JsonErrorsTests
{
    [Test]
    [Arguments("{\"a\" 1}", "line 1, column 6: ")]
    [Arguments("{\n  \"a\": 1,\n  \"b\" 2}", "line 3, column 7: ")]
    [Arguments("{\"a\":1", "line 1, column ")]
    public async Task Position_is_one_based(string json, string prefix)
    {
        var e = Assert.Throws<JsonException>(() => JsonDocument.Parse(json).Dispose());
        await Assert.That(JsonErrors.Describe(e!)).StartsWith(prefix);
        await Assert.That(JsonErrors.Describe(e!)).DoesNotContain("LineNumber");
    }

    [Test]
    [Arguments("ZeroDepthAtEnd LineNumber: 0 | BytePositionInLine: 6.", "the text ends inside an object or array (a '}' or ']' is missing)")]
    [Arguments("ExpectedSeparatorAfterPropertyNameNotFound, 1 LineNumber: 0 | BytePositionInLine: 5.", "expected ':' after a property name")]
    [Arguments("SomethingNew LineNumber: 0 | BytePositionInLine: 5.", "SomethingNew")]
    public async Task Resource_keys_become_sentences(string message, string expected)
    {
        var e = new JsonException(message, null, 0, 5);
        await Assert.That(JsonErrors.Describe(e)).IsEqualTo("line 1, column 6: " + expected);
    }
}
