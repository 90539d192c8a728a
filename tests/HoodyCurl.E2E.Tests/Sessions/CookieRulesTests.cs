// The jar behaves like a browser's (libcurl's cookie engine): expiry and Max-Age=0 deletion, Secure,
// HttpOnly, Domain and host-only scoping, Path matching, and the snapshot keys of rest.md §5.3. The
// sidecar maps a.site.test, b.site.test and site.test to the loopback upstream with --resolve, so
// cookies can be scoped to real names.
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;
using TUnit.Core.Interfaces;
using static HoodyCurl.E2E.Tests.Sessions.SessionsApi;

namespace HoodyCurl.E2E.Tests.Sessions;

public sealed class CookieEnvironment : IAsyncInitializer, IAsyncDisposable
{
    public TestUpstreamServer Upstream { get; private set; } = null!;
    public Sidecar Sidecar { get; private set; } = null!;
    public HttpClient Client => Sidecar.Client;

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstreamServer.StartAsync();
        var port = Upstream.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Sidecar = await Sidecar.StartAsync(
            "--resolve", $"a.site.test:{port}:127.0.0.1",
            "--resolve", $"b.site.test:{port}:127.0.0.1",
            "--resolve", $"site.test:{port}:127.0.0.1");
    }

    /// <summary>http://{host}:{port}{path} on the test upstream.</summary>
    public string At(string host, string path) => $"http://{host}:{Upstream.Port}{path}";

    /// <summary>/cookies/set-raw with one Set-Cookie header per value.</summary>
    public string SetRaw(string host, params string[] setCookies) =>
        At(host, "/cookies/set-raw?" + string.Join('&', setCookies.Select(c => "header=" + Q(c))));

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

[ClassDataSource<CookieEnvironment>(Shared = SharedType.PerClass)]
public class CookieRulesTests(CookieEnvironment env)
{
    private static string NewSession() => "rules-" + Guid.NewGuid().ToString("N");

    [Test]
    public async Task Max_age_expires_and_max_age_zero_deletes()
    {
        var s = NewSession();
        // Max-Age=3: libcurl keeps whole-second expiry times, so a 1 s cookie could already be gone (a second
        // boundary crossed) by the first snapshot on a slow machine.
        await EnvelopeAsync(env.Client, env.SetRaw("127.0.0.1", "short=1; Max-Age=3; Path=/", "keep=1; Path=/", "gone=1; Path=/",
            "old=1; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Path=/"), s);
        var jar = await SnapshotAsync(env.Client, s);
        await Assert.That(jar.Keys.Order().ToArray()).IsEquivalentTo(["gone", "keep", "short"]);

        await EnvelopeAsync(env.Client, env.SetRaw("127.0.0.1", "gone=; Max-Age=0; Path=/"), s);
        await Assert.That((await SnapshotAsync(env.Client, s)).ContainsKey("gone")).IsFalse();

        // Until the jar drops the expired cookie (bounded), then it is never sent either.
        for (var deadline = DateTime.UtcNow.AddSeconds(15); (await SnapshotAsync(env.Client, s)).ContainsKey("short"); await Task.Delay(200))
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the Max-Age=3 cookie was still in the jar after 15 s");
        var sent = await SentCookiesAsync(env.Client, env.At("127.0.0.1", "/cookies"), s);
        await Assert.That(sent).IsEquivalentTo(new Dictionary<string, string> { ["keep"] = "1" });
        await Assert.That(await SnapshotAsync(env.Client, s)).IsEquivalentTo(new Dictionary<string, string> { ["keep"] = "1" });
    }

    [Test]
    public async Task Secure_cookies_need_a_secure_context_and_http_only_cookies_are_replayed()
    {
        var s = NewSession();
        // libcurl counts 127.0.0.1 as a secure context (like browsers do for localhost) but not plain
        // http to a named host, so a Secure cookie from http://a.site.test is refused.
        await EnvelopeAsync(env.Client, env.SetRaw("127.0.0.1", "sec=1; Secure; Path=/", "ho=1; HttpOnly; Path=/"), s);
        await EnvelopeAsync(env.Client, env.SetRaw("a.site.test", "insecure_secure=1; Secure; Path=/", "plain=1; Path=/"), s);
        var session = await SessionAsync(env.Client, s);
        await Assert.That(session.Scoped("sec")!.Value.GetProperty("secure").GetBoolean()).IsTrue();
        await Assert.That(session.Scoped("ho")!.Value.GetProperty("http_only").GetBoolean()).IsTrue();
        await Assert.That(session.Scoped("insecure_secure")).IsNull();
        await Assert.That(session.Scoped("plain")).IsNotNull();

        var sent = await SentCookiesAsync(env.Client, env.At("127.0.0.1", "/cookies"), s);
        await Assert.That(sent).IsEquivalentTo(new Dictionary<string, string> { ["sec"] = "1", ["ho"] = "1" });
    }

    [Test]
    public async Task Domain_cookies_reach_subdomains_and_host_only_cookies_do_not()
    {
        var s = NewSession();
        await EnvelopeAsync(env.Client, env.SetRaw("a.site.test", "dom=1; Domain=site.test; Path=/", "host=1; Path=/"), s);
        await Assert.That(await SentCookiesAsync(env.Client, env.At("a.site.test", "/cookies"), s))
            .IsEquivalentTo(new Dictionary<string, string> { ["dom"] = "1", ["host"] = "1" });
        await Assert.That(await SentCookiesAsync(env.Client, env.At("b.site.test", "/cookies"), s))
            .IsEquivalentTo(new Dictionary<string, string> { ["dom"] = "1" });
        await Assert.That(await SentCookiesAsync(env.Client, env.At("site.test", "/cookies"), s))
            .IsEquivalentTo(new Dictionary<string, string> { ["dom"] = "1" });
        await Assert.That((await SentCookiesAsync(env.Client, env.At("127.0.0.1", "/cookies"), s)).Count).IsEqualTo(0);

        var session = await SessionAsync(env.Client, s);
        var dom = session.Scoped("dom")!.Value;
        await Assert.That(dom.GetProperty("domain").GetString()).IsEqualTo("site.test");
        await Assert.That(dom.GetProperty("host_only").GetBoolean()).IsFalse();
        var host = session.Scoped("host")!.Value;
        await Assert.That(host.GetProperty("domain").GetString()).IsEqualTo("a.site.test");
        await Assert.That(host.GetProperty("host_only").GetBoolean()).IsTrue();
        // A Domain= for another site is refused by the cookie engine.
        await EnvelopeAsync(env.Client, env.SetRaw("a.site.test", "foreign=1; Domain=example.com; Path=/"), s);
        await Assert.That((await SessionAsync(env.Client, s)).Scoped("foreign")).IsNull();
    }

    [Test]
    public async Task Path_scoped_cookies_go_only_below_their_path()
    {
        var s = NewSession();
        await EnvelopeAsync(env.Client, env.SetRaw("a.site.test", "here=1; Path=/cookies", "there=1; Path=/elsewhere", "root=1; Path=/"), s);
        await Assert.That(await SentCookiesAsync(env.Client, env.At("a.site.test", "/cookies"), s))
            .IsEquivalentTo(new Dictionary<string, string> { ["here"] = "1", ["root"] = "1" });
        var session = await SessionAsync(env.Client, s);
        await Assert.That(session.Scoped("there")!.Value.GetProperty("path").GetString()).IsEqualTo("/elsewhere");
    }

    [Test]
    public async Task The_snapshot_scopes_a_name_set_by_several_domains()
    {
        var s = NewSession();
        await EnvelopeAsync(env.Client, env.SetRaw("a.site.test", "lang=en; Domain=site.test; Path=/", "sid=abc; Path=/"), s);
        await EnvelopeAsync(env.Client, env.SetRaw("b.site.test", "lang=fr; Path=/"), s);
        var snapshot = await SnapshotAsync(env.Client, s);
        await Assert.That(snapshot).IsEquivalentTo(new Dictionary<string, string>
        {
            ["sid"] = "abc",
            ["lang@site.test/"] = "en",
            ["lang@b.site.test/"] = "fr",
        });
        var session = await SessionAsync(env.Client, s);
        await Assert.That(session.GetProperty("cookies").EnumerateObject().Count()).IsEqualTo(3);
        await Assert.That(session.GetProperty("scoped_cookies").GetArrayLength()).IsEqualTo(3);
        // b.site.test gets its own lang and the domain-wide one; the upstream echo keeps the last of a repeated name.
        await Assert.That((await SentCookiesAsync(env.Client, env.At("b.site.test", "/cookies"), s)).ContainsKey("lang")).IsTrue();
    }

    [Test]
    public async Task A_failed_transfer_stores_nothing()
    {
        var s = NewSession();
        await EnvelopeAsync(env.Client, env.SetRaw("127.0.0.1", "before=1; Path=/"), s);
        // max_filesize makes the transfer fail after the Set-Cookie head was received.
        var (status, _) = await RequestAsync(env.Client, env.SetRaw("127.0.0.1", "after=1; Path=/"), s, ",\"max_filesize\":1");
        await Assert.That(status).IsEqualTo(502);
        await Assert.That(await SnapshotAsync(env.Client, s)).IsEquivalentTo(new Dictionary<string, string> { ["before"] = "1" });
    }
}
