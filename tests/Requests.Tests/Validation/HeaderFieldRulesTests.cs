// The one header check every door's request passes (issue 16 item 1): no caller-set framing or
// connection header, no control character but tab in anything that becomes a header.
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Requests.Tests.Validation;

public class HeaderFieldRulesTests
{
    [Test]
    [Arguments("Content-Length")]
    [Arguments("CONTENT-LENGTH")]
    [Arguments("Transfer-Encoding")]
    [Arguments("Connection")]
    [Arguments("Keep-Alive")]
    [Arguments("Upgrade")]
    [Arguments("te")]
    [Arguments("Trailer")]
    [Arguments("Proxy-Authorization")]
    [Arguments("Proxy-Anything")]
    [Arguments("Expect")]
    public async Task Framing_and_connection_headers_are_refused_with_their_name(string name)
    {
        var request = new CurlRequest { Url = "http://example.com/", Headers = [new HeaderEntry("X-Ok", "1"), new HeaderEntry(name, "0")] };
        var error = await CurlRequestJsonTests.Refused(() => { RequestRules.CheckHeaderFields(request); return 0; });
        await Assert.That(error.Message).Contains($"'{name}'");
    }

    [Test]
    [Arguments("Content-Type")]
    [Arguments("Contents-Length")]
    [Arguments("X-Connection")]
    [Arguments("Tea")]
    [Arguments("Accept-Encoding")]
    public async Task Ordinary_headers_pass(string name)
    {
        var request = new CurlRequest { Url = "http://example.com/", Headers = [new HeaderEntry(name, "a\tb")] };
        RequestRules.CheckHeaderFields(request);
        await Assert.That(request.Headers!.Count).IsEqualTo(1);
    }

    [Test]
    [Arguments('\u0001')]
    [Arguments('\u0008')]
    [Arguments('\u000b')]
    [Arguments('\u001b')]
    [Arguments('\u007f')]
    public async Task Control_characters_are_refused_in_every_header_field(char control)
    {
        var text = "a" + control + "b";
        var cases = new (string Field, CurlRequest Request)[]
        {
            ("user_agent", new CurlRequest { Url = "http://e/", UserAgent = text }),
            ("referer", new CurlRequest { Url = "http://e/", Referer = text }),
            ("cookie", new CurlRequest { Url = "http://e/", Cookie = text }),
            ("auth_user", new CurlRequest { Url = "http://e/", AuthUser = text }),
            ("auth_password", new CurlRequest { Url = "http://e/", AuthUser = "u", AuthPassword = text }),
            ("bearer_token", new CurlRequest { Url = "http://e/", BearerToken = text }),
            ("X-A", new CurlRequest { Url = "http://e/", Headers = [new HeaderEntry("X-A", text)] }),
        };
        foreach (var (field, request) in cases)
        {
            var error = await CurlRequestJsonTests.Refused(() => { RequestRules.CheckHeaderFields(request); return 0; });
            await Assert.That(error.Message).Contains($"'{field}'");
        }
        var json = await CurlRequestJsonTests.Refused(() => CurlRequestJsonTests.Parse(
            $"{{\"url\":\"http://e/\",\"user_agent\":\"a\\u{(int)control:x4}b\"}}"));
        await Assert.That(json.Message).Contains("'user_agent'");
    }

    [Test]
    public async Task The_json_parser_and_the_bridge_both_apply_it()
    {
        await CurlRequestJsonTests.Refused(() => CurlRequestJsonTests.Parse("{\"url\":\"http://e/\",\"headers\":{\"Content-Length\":\"0\"},\"data\":\"x\"}"));
        await CurlRequestJsonTests.Refused(() => GetBridgeQueryTests.Parse(null, ("url", "http://e/"), ("header", "Transfer-Encoding: chunked")));
        await CurlRequestJsonTests.Refused(() => GetBridgeQueryTests.Parse(null, ("url", "http://e/"), ("headers", "{\"Connection\":\"close\"}")));
    }
}
