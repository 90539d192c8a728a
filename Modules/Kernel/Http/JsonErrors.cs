// Says where and what is wrong in a JSON text, in words: the AOT binary strips the runtime's message
// texts (UseSystemResourceKeys), so System.Text.Json's errors arrive as bare resource keys such as
// "ZeroDepthAtEnd". The key is mapped to a sentence; the position comes from the exception.
using System.Text.Json;

namespace HoodyCurl.Kernel.Http;

public static class JsonErrors
{
    private static readonly (string Key, string Text)[] Known =
    [
        ("ZeroDepthAtEnd", "the text ends inside an object or array (a '}' or ']' is missing)"),
        ("ExpectedEndAfterSingleJson", "there is more text after the JSON value"),
        ("ExpectedSeparatorAfterPropertyNameNotFound", "expected ':' after a property name"),
        ("ExpectedStartOfPropertyNotFound", "expected a property name in double quotes"),
        ("ExpectedStartOfPropertyOrValueNotFound", "expected a property name or a value"),
        ("ExpectedValueAfterPropertyNameNotFound", "expected a value after ':'"),
        ("ExpectedStartOfValueNotFound", "expected a JSON value"),
        ("ExpectedJsonTokens", "the text is empty or has no JSON value"),
        ("EndOfStringNotFound", "a string is not closed with '\"'"),
        ("EndOfCommentNotFound", "a comment is not closed"),
        ("TrailingCommaNotAllowedBeforeObjectEnd", "a ',' before '}' (trailing commas are not allowed)"),
        ("TrailingCommaNotAllowedBeforeArrayEnd", "a ',' before ']' (trailing commas are not allowed)"),
        ("MismatchedObjectArray", "a '}' or ']' does not match its opening bracket"),
        ("InvalidCharacterWithinString", "a control character inside a string (escape it)"),
        ("InvalidCharacterAfterEscapeWithinString", "an invalid escape sequence inside a string"),
        ("InvalidHexCharacterWithinString", "an invalid \\u escape inside a string"),
        ("ExpectedFalse", "expected the literal false"),
        ("ExpectedTrue", "expected the literal true"),
        ("ExpectedNull", "expected the literal null"),
        ("ExpectedEndOfDigitNotFound", "a number is malformed"),
        ("ExpectedNextDigitEValueNotFound", "a number's exponent is malformed"),
        ("RequiredDigitNotFoundAfterDecimal", "a digit must follow the decimal point"),
        ("RequiredDigitNotFoundAfterSign", "a digit must follow the sign"),
        ("RequiredDigitNotFoundEndOfData", "the text ends inside a number"),
        ("FoundInvalidCharacter", "an unexpected character"),
        ("InvalidEndOfJsonNonPrimitive", "an unexpected character after a value"),
        ("ArrayDepthTooLarge", "nested deeper than --max-json-depth allows"),
        ("ObjectDepthTooLarge", "nested deeper than --max-json-depth allows"),
        ("DepthTooLarge", "nested deeper than --max-json-depth allows"),
        ("CannotReadInvalidUTF16", "invalid text encoding"),
        ("InvalidUTF8", "invalid UTF-8"),
    ];

    /// <summary>"line 1, column 17: expected ':' after a property name" (1-based; columns count bytes).</summary>
    public static string Describe(JsonException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var what = What(e.Message);
        return e.LineNumber is { } line && e.BytePositionInLine is { } column
            ? $"line {line + 1}, column {column + 1}: {what}"
            : what;
    }

    private static string What(string message)
    {
        foreach (var (key, text) in Known)
            if (message.StartsWith(key, StringComparison.Ordinal)) return text;
        // With the runtime's texts present (JIT runs) the first sentence reads fine; drop its position suffix.
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var text2 = (cut >= 0 ? message[..cut] : message).Split('\n')[0].Trim();
        return text2.Length == 0 ? "syntax error" : text2.TrimEnd('.');
    }
}
