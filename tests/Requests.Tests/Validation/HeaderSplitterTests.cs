// Table-driven tests of the `header` splitter (rest.md §3.3, decisions D7): split only at a comma that
// starts "Token:", trim spaces and tabs (never CR, LF or NUL), refuse what is not "Name: Value".
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Requests.Tests.Validation;

public class HeaderSplitterTests
{
    [Test]
    [Arguments("X-A: 1", "X-A=1")]
    [Arguments("X-A:1", "X-A=1")]
    [Arguments("X-A:", "X-A=")]
    [Arguments("X-A: a:b:c", "X-A=a:b:c")]
    [Arguments("X-A: 1,X-B: 2", "X-A=1|X-B=2")]
    [Arguments("X-A: 1, X-B: 2", "X-A=1|X-B=2")]
    [Arguments("X-A: 1,\tX-B: 2", "X-A=1|X-B=2")]
    [Arguments("Accept: text/html, application/json", "Accept=text/html, application/json")]
    [Arguments("Accept: text/html,application/json;q=0.9", "Accept=text/html,application/json;q=0.9")]
    [Arguments("X-A: 1,,X-B: 2", "X-A=1,|X-B=2")]
    [Arguments("X-A: a, b c: d", "X-A=a, b c: d")]
    [Arguments("X-A: x, y:z", "X-A=x|y=z")]
    [Arguments("Cookie: a=1, b=2", "Cookie=a=1, b=2")]
    [Arguments("X-Date: Tue, 15 Nov 1994 08:12:31 GMT", "X-Date=Tue, 15 Nov 1994 08:12:31 GMT")]
    [Arguments(" \tX-A \t: \t1 \t", "X-A=1")]
    [Arguments("X-A: a\tb", "X-A=a\tb")]
    [Arguments("X-A: 1,NoColon", "X-A=1,NoColon")]
    public async Task Splits_only_where_a_new_header_starts(string value, string expected)
    {
        var headers = HeaderSplitter.Split(value, 16384);
        await Assert.That(string.Join("|", headers.Select(h => $"{h.Name}={h.Value}"))).IsEqualTo(expected);
    }

    [Test]
    [Arguments("", "Name: Value")]
    [Arguments("NoColon", "Name: Value")]
    [Arguments(": v", "header name")]
    [Arguments("X A: v", "header name")]
    [Arguments("X-A\r\n: v", "header name")]
    [Arguments("\r\nX-A: v", "header name")]
    [Arguments("X-A\r: v", "header name")]
    [Arguments("\nX-A: v", "header name")]
    [Arguments("X-A\0: v", "header name")]
    [Arguments("\0X-A: v", "header name")]
    [Arguments("X-\u00e9: v", "header name")]
    [Arguments("X-\u00a0A: v", "header name")]
    [Arguments("\u00a0X-A: v", "header name")]
    [Arguments("X-A: v\r\nX-B: w", "header 'X-A'")]
    [Arguments("X-A: v\r", "header 'X-A'")]
    [Arguments("X-A: v\n", "header 'X-A'")]
    [Arguments("X-A: \r\nv", "header 'X-A'")]
    [Arguments("X-A: v\0", "header 'X-A'")]
    [Arguments("X-A: v\u0007", "header 'X-A'")]
    [Arguments("X-A: v\u007f", "header 'X-A'")]
    public async Task Refuses_what_is_not_a_clean_header(string value, string fragment)
    {
        var error = await CurlRequestJsonTests.Refused(() => HeaderSplitter.Split(value, 16384));
        await Assert.That(error.Message).Contains(fragment);
    }

    [Test]
    public async Task Size_limit_counts_name_and_value()
    {
        await Assert.That(HeaderSplitter.Split("X-A: " + new string('v', 13), 16).Count).IsEqualTo(1);
        var error = await CurlRequestJsonTests.Refused(() => HeaderSplitter.Split("X-A: " + new string('v', 14), 16));
        await Assert.That(error.Message).Contains("longer than 16 bytes");
    }

    [Test]
    [Arguments(",X-A: 1", 1)]
    [Arguments(" ,X-A: 1", 1)]
    [Arguments("X-A: 1,X-B: 2,X-C: 3,X-D: 4", 4)]
    public async Task Start_new_header_is_a_token_then_a_colon(string value, int count)
    {
        // A leading comma belongs to nothing and is not a header of its own: the first entry refuses it.
        if (value.TrimStart().StartsWith(','))
        {
            await CurlRequestJsonTests.Refused(() => HeaderSplitter.Split(value, 16384));
            return;
        }
        await Assert.That(HeaderSplitter.Split(value, 16384).Count).IsEqualTo(count);
    }
}
