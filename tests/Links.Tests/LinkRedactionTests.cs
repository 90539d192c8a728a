// What a link record shows of its stored request: no credential in headers (by name or by value),
// userinfo or secret-looking query values; the shared D9 fields redacted by the Api writer.
using System.Text;
using System.Text.Json;
using HoodyCurl.Links.Endpoints;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Links.Tests;

public class LinkRedactionTests
{
    [Test]
    [Arguments("https://user:pw@h.example/p", "https://***@h.example/p")]
    [Arguments("https://ghp_TOKEN@h.example/p", "https://***@h.example/p")]
    [Arguments("https://h.example/p?api_key=K&q=1&access_token=T#f", "https://h.example/p?api_key=***&q=1&access_token=***#f")]
    [Arguments("https://h.example/p?Signature=S&X-Amz-Credential=C&page=2", "https://h.example/p?Signature=***&X-Amz-Credential=***&page=2")]
    [Arguments("https://h.example/p?q=a@b", "https://h.example/p?q=a@b")]
    [Arguments("https://h.example/a@b/c", "https://h.example/a@b/c")]
    [Arguments("https://h.example", "https://h.example")]
    public async Task Urls_lose_their_userinfo_and_secret_query_values(string url, string shown)
    {
        await Assert.That(LinkRedaction.Url(url)).IsEqualTo(shown);
    }

    [Test]
    public async Task Headers_carrying_credentials_are_redacted_by_name_or_by_value()
    {
        HeaderEntry[] secret =
        [
            new("Authorization", "Bearer abc"), new("X-Api-Key", "k"), new("Cookie", "a=b"), new("X-Auth-Token", "t"),
            new("X-Upstream", "Bearer abc"), new("X-Forward", "basic dXNlcjpwdw=="), new("X-Gh", "token ghp_x"), new("Private-Secret", "s"),
        ];
        foreach (var h in secret) await Assert.That(LinkRedaction.IsSecretHeader(h)).IsTrue().Because(h.Name);
        await Assert.That(LinkRedaction.IsSecretHeader(new("Accept", "application/json"))).IsFalse();
        await Assert.That(LinkRedaction.IsSecretHeader(new("X-Tenant", "acme"))).IsFalse();
    }

    [Test]
    public async Task A_link_record_shows_no_secret_of_its_request()
    {
        var request = new CurlRequest
        {
            Url = "https://bot:URLPW@api.example.com/hook?token=QUERYTOKEN&x=1",
            Headers = [new("Authorization", "Bearer HEADERBEARER"), new("X-Custom", "Basic BASICVALUE"), new("Accept", "text/plain")],
            BearerToken = "FIELDBEARER",
            AuthUser = "u",
            AuthPassword = "AUTHPASSWORD",
            Cookie = "sid=COOKIEVALUE",
            Mode = ExecutionMode.Sync,
        };
        var link = new LinkRecord
        {
            Id = Guid.CreateVersion7().ToString(),
            CreatedAt = DateTimeOffset.UtcNow,
            Methods = ["GET"],
            Params = [],
            Request = request,
        };
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) LinkJson.Write(w, link, DateTimeOffset.UtcNow);
        var json = Encoding.UTF8.GetString(buffer.ToArray());
        foreach (var secret in new[] { "URLPW", "bot", "QUERYTOKEN", "HEADERBEARER", "BASICVALUE", "FIELDBEARER", "AUTHPASSWORD", "COOKIEVALUE" })
            await Assert.That(json).DoesNotContain(secret);
        using var document = JsonDocument.Parse(json);
        var shown = document.RootElement.GetProperty("request");
        await Assert.That(shown.GetProperty("headers").GetProperty("Accept").GetString()).IsEqualTo("text/plain");
        await Assert.That(shown.GetProperty("url").GetString()).IsEqualTo("https://***@api.example.com/hook?token=***&x=1");
        await Assert.That(document.RootElement.TryGetProperty("path", out _)).IsFalse();
    }
}
