// The rules of what a cross-origin redirect drops (issue 16 item 4): the glob, the always-secret names,
// and what counts as leaving the origin.
using HoodyCurl.Requests.Engine;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Tests.Engine;

public class RedirectSecretsTests
{
    private static readonly string[] Defaults = ["*-Key", "*-Token", "*-Secret", "*Auth*"];

    [Test]
    [Arguments("X-Api-Key", true)]
    [Arguments("x-api-key", true)]
    [Arguments("X-Session-Token", true)]
    [Arguments("X-Client-Secret", true)]
    [Arguments("X-Authz", true)]
    [Arguments("OAuth-Thing", true)]
    [Arguments("Cookie", true)]
    [Arguments("Authorization", true)]
    [Arguments("Proxy-Authorization", true)]
    [Arguments("X-Plain", false)]
    [Arguments("Keyboard", false)]
    [Arguments("Accept", false)]
    public async Task Default_secret_names(string name, bool secret) =>
        await Assert.That(RedirectSecrets.IsSecret(name, Defaults)).IsEqualTo(secret);

    [Test]
    [Arguments("*", "anything", true)]
    [Arguments("a*b*c", "aXXbYYc", true)]
    [Arguments("a*b*c", "aXXbYY", false)]
    [Arguments("*-key", "X-KEY", true)]
    [Arguments("x-*", "y-a", false)]
    [Arguments("", "", true)]
    [Arguments("abc", "abcd", false)]
    public async Task Glob(string pattern, string text, bool match) =>
        await Assert.That(RedirectSecrets.Glob(pattern, text)).IsEqualTo(match);

    [Test]
    [Arguments("http://a.example/x", "/y", false)]
    [Arguments("http://a.example/x", "http://a.example:80/y", false)]
    [Arguments("http://a.example/x", "http://A.EXAMPLE/y", false)]
    [Arguments("http://a.example/x", "https://a.example/y", true)]
    [Arguments("http://a.example/x", "http://b.example/y", true)]
    [Arguments("http://a.example/x", "http://a.example:8080/y", true)]
    [Arguments("http://a.example/x", "//b.example/y", true)]
    public async Task Leaving_the_origin(string from, string location, bool leaves) =>
        await Assert.That(RedirectSecrets.LeavesOrigin(from, from, location)).IsEqualTo(leaves);

    [Test]
    public async Task A_later_hop_is_compared_with_the_first_url()
    {
        // a -> b (left) -> relative on b: still away from a.
        await Assert.That(RedirectSecrets.LeavesOrigin("http://a.example/", "http://b.example/p", "/q")).IsTrue();
        await Assert.That(RedirectSecrets.HasSecrets(new CurlRequest { Url = "http://a/", Headers = [new HeaderEntry("X-Plain", "v")] }, Defaults)).IsFalse();
        await Assert.That(RedirectSecrets.HasSecrets(new CurlRequest { Url = "http://a/", Cookie = "a=b" }, Defaults)).IsTrue();
    }
}
