// The one quoting rule for caller text in error messages: clipped at 64 characters, every control
// character (C0, DEL, C1) shown as '?', everything else kept.
using HoodyCurl.Kernel.Errors;

namespace HoodyCurl.Kernel.Tests.Errors;

public class ErrorTextTests
{
    [Test]
    [Arguments("plain", "plain")]
    [Arguments("a\r\nb", "a??b")]
    [Arguments("nul\0tab\tdel\u007f", "nul?tab?del?")]
    [Arguments("c1\u0085\u009b end", "c1?? end")]
    [Arguments("é ✓ \u00a0 kept", "é ✓ \u00a0 kept")]
    public async Task Control_characters_become_question_marks(string input, string expected) =>
        await Assert.That(ErrorText.Printable(input)).IsEqualTo(expected);

    [Test]
    public async Task Long_text_is_clipped_and_marked()
    {
        var text = new string('x', 63) + "\n" + new string('y', 100);
        var shown = ErrorText.Printable(text);
        await Assert.That(shown).IsEqualTo(new string('x', 63) + "?…");
        await Assert.That(ErrorText.Printable(new string('z', 64))).IsEqualTo(new string('z', 64));
    }
}
