// Netscape cookie-line parsing and formatting, jar normalisation (expiry, replacement, the cookie cap)
// and the snapshot key rules of rest.md §5.3.
namespace HoodyCurl.Sessions.Tests;

public class CookieJarTests
{
    private const long Now = 1_800_000_000;

    [Test]
    public async Task Parses_a_host_only_cookie_as_libcurl_writes_it()
    {
        var c = CookieJar.Parse("127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc");
        await Assert.That(c).IsEqualTo(new StoredCookie("127.0.0.1", true, "/", false, false, 0, "session", "abc"));
    }

    [Test]
    public async Task Parses_domain_http_only_and_secure_flags()
    {
        var c = CookieJar.Parse("#HttpOnly_.Example.COM\tTRUE\t/app\tTRUE\t1900000000\tsid\tv=1;x")!;
        await Assert.That(c.Domain).IsEqualTo("example.com");
        await Assert.That(c.HostOnly).IsFalse();
        await Assert.That(c.HttpOnly).IsTrue();
        await Assert.That(c.Secure).IsTrue();
        await Assert.That(c.Path).IsEqualTo("/app");
        await Assert.That(c.Expires).IsEqualTo(1_900_000_000L);
        await Assert.That(c.Value).IsEqualTo("v=1;x");
    }

    [Test]
    public async Task Empty_value_and_missing_value_field_parse_as_empty()
    {
        await Assert.That(CookieJar.Parse("h\tFALSE\t/\tFALSE\t0\tn\t")!.Value).IsEqualTo("");
        await Assert.That(CookieJar.Parse("h\tFALSE\t/\tFALSE\t0\tn")!.Value).IsEqualTo("");
    }

    [Test]
    [Arguments("")]
    [Arguments("# Netscape HTTP Cookie File")]
    [Arguments("h\tFALSE\t/\tFALSE\t0")]
    [Arguments("h\tFALSE\t/\tFALSE\tsoon\tn\tv")]
    [Arguments("h\tFALSE\tnoslash\tFALSE\t0\tn\tv")]
    [Arguments("\tFALSE\t/\tFALSE\t0\tn\tv")]
    [Arguments("h\tFALSE\t/\tFALSE\t0\t\tv")]
    [Arguments("h\tFALSE\t/\tFALSE\t0\tn\tv\textra\tmore")]
    [Arguments("h\tFALSE\t/\tFALSE\t0\tn\tv\u0001")]
    public async Task Comments_and_malformed_lines_are_skipped(string line)
    {
        await Assert.That(CookieJar.Parse(line)).IsNull();
    }

    [Test]
    public async Task Format_is_the_inverse_of_parse()
    {
        string[] lines =
        [
            "127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tabc",
            "#HttpOnly_.example.com\tTRUE\t/a/b\tTRUE\t1900000000\tsid\txyz",
            "api.example.com\tFALSE\t/v1\tFALSE\t1900000001\tlang\t",
        ];
        foreach (var line in lines)
            await Assert.That(CookieJar.Format(CookieJar.Parse(line)!)).IsEqualTo(line);
    }

    [Test]
    public async Task Normalize_drops_expired_cookies_and_max_age_zero_deletions()
    {
        var jar = CookieJar.Normalize(
        [
            "h\tFALSE\t/\tFALSE\t0\tkeep_session\t1",
            $"h\tFALSE\t/\tFALSE\t{Now + 60}\tkeep_future\t1",
            $"h\tFALSE\t/\tFALSE\t{Now}\texpired_now\t1",
            "h\tFALSE\t/\tFALSE\t1\tdeleted_max_age_0\t1",
            "h\tFALSE\t/\tFALSE\t-5\tbefore_1970\t1",
            "not a cookie line",
        ], Now, 100, out var dropped);
        await Assert.That(jar.Select(c => c.Name).ToArray()).IsEquivalentTo(["keep_session", "keep_future"]);
        await Assert.That(dropped).IsEqualTo(0);
    }

    [Test]
    public async Task Normalize_keeps_one_cookie_per_scope_and_the_last_wins()
    {
        var jar = CookieJar.Normalize(
        [
            "h\tFALSE\t/\tFALSE\t0\tn\told",
            "h\tFALSE\t/\tFALSE\t0\tn\tnew",
            "h\tFALSE\t/x\tFALSE\t0\tn\tother-path",
            ".h\tTRUE\t/\tFALSE\t0\tn\tdomain-cookie",
        ], Now, 100, out _);
        await Assert.That(jar.Count).IsEqualTo(3);
        await Assert.That(jar.Single(c => c.HostOnly && c.Path == "/").Value).IsEqualTo("new");
    }

    [Test]
    public async Task Normalize_caps_the_jar_dropping_what_expires_first()
    {
        var lines = Enumerable.Range(0, 10).Select(i => $"h\tFALSE\t/\tFALSE\t{Now + 100 + i}\tc{i}\tv").Append("h\tFALSE\t/\tFALSE\t0\tsession\tv");
        var jar = CookieJar.Normalize(lines, Now, 4, out var dropped);
        await Assert.That(dropped).IsEqualTo(7);
        await Assert.That(jar.Select(c => c.Name).ToArray()).IsEquivalentTo(["session", "c9", "c8", "c7"]);
    }

    [Test]
    public async Task Normalize_orders_the_jar_stably()
    {
        var a = CookieJar.Normalize(["b\tFALSE\t/\tFALSE\t0\tz\t1", "a\tFALSE\t/\tFALSE\t0\ty\t1", "a\tFALSE\t/\tFALSE\t0\tx\t1"], Now, 10, out _);
        var b = CookieJar.Normalize(["a\tFALSE\t/\tFALSE\t0\tx\t1", "b\tFALSE\t/\tFALSE\t0\tz\t1", "a\tFALSE\t/\tFALSE\t0\ty\t1"], Now, 10, out _);
        await Assert.That(a.SequenceEqual(b)).IsTrue();
        await Assert.That(a.Select(c => c.Name).ToArray()).IsEquivalentTo(["x", "y", "z"], TUnit.Assertions.Enums.CollectionOrdering.Matching);
    }

    [Test]
    public async Task Snapshot_uses_the_bare_name_when_it_is_unique()
    {
        var jar = Jar("api.example.com\tFALSE\t/\tFALSE\t0\tsid\tabc", "api.example.com\tFALSE\t/\tFALSE\t0\ttheme\tdark");
        var snapshot = CookieJar.Snapshot(jar);
        await Assert.That(snapshot).IsEquivalentTo([new("sid", "abc"), new KeyValuePair<string, string>("theme", "dark")]);
    }

    [Test]
    public async Task Snapshot_scopes_a_name_that_exists_under_several_domains_or_paths()
    {
        var jar = Jar(
            "example.com\tFALSE\t/\tFALSE\t0\tsid\tabc",
            ".example.com\tTRUE\t/\tFALSE\t0\tlang\ten",
            "api.example.com\tFALSE\t/v1\tFALSE\t0\tlang\tfr",
            "api.example.com\tFALSE\t/v2\tFALSE\t0\tlang\tde");
        var snapshot = CookieJar.Snapshot(jar).ToDictionary(p => p.Key, p => p.Value);
        await Assert.That(snapshot.Count).IsEqualTo(4);
        await Assert.That(snapshot["sid"]).IsEqualTo("abc");
        await Assert.That(snapshot["lang@example.com/"]).IsEqualTo("en");
        await Assert.That(snapshot["lang@api.example.com/v1"]).IsEqualTo("fr");
        await Assert.That(snapshot["lang@api.example.com/v2"]).IsEqualTo("de");
    }

    [Test]
    public async Task Snapshot_keeps_host_only_and_domain_cookies_of_one_host_apart()
    {
        var jar = Jar("example.com\tFALSE\t/\tFALSE\t0\tn\thost", ".example.com\tTRUE\t/\tFALSE\t0\tn\tdomain");
        var snapshot = CookieJar.Snapshot(jar).ToDictionary(p => p.Key, p => p.Value);
        await Assert.That(snapshot["n@example.com/"]).IsEqualTo("host");
        await Assert.That(snapshot["n@.example.com/"]).IsEqualTo("domain");
    }

    private static List<StoredCookie> Jar(params string[] lines) => CookieJar.Normalize(lines, Now, 1000, out _);
}
