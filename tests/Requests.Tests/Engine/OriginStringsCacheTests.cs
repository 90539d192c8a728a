// Each origin's log text and pool key are built once and shared; origins that share a slot never get each other's.
using HoodyCurl.Requests.Engine;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Tests.Engine;

public class OriginStringsCacheTests
{
    [Test]
    public async Task Random_origins_get_their_own_strings_and_a_repeated_one_shares_them()
    {
        var cache = new OriginStringsCache();
        var random = new Random(4242);
        string[] hosts = ["api.example", "127.0.0.1", "[::1]", "b.example", "c.example"];
        string?[] certTypes = [null, "PEM", "DER"];
        for (var i = 0; i < 5000; i++)
        {
            var scheme = random.Next(2) == 0 ? "http" : "https";
            var host = hosts[random.Next(hosts.Length)];
            var port = random.Next(2) == 0 ? 80 : 8000 + random.Next(40);
            var insecure = random.Next(3) switch { 0 => (bool?)null, 1 => false, _ => true };
            var certType = certTypes[random.Next(certTypes.Length)];
            var canonical = new CanonicalUrl(scheme, new string(host.AsSpan()), port, null, $"{scheme}://{host}:{port}/");
            var request = new CurlRequest { Url = canonical.Normalized, Insecure = insecure, CertType = certType };
            var upstream = $"{scheme}://{host}:{port}";
            var strings = cache.Get(canonical, request);
            await Assert.That(strings.Upstream).IsEqualTo(upstream);
            await Assert.That(strings.PoolKey).IsEqualTo($"{upstream}|{insecure == true}|{certType}");
            await Assert.That(ReferenceEquals(cache.Get(canonical, request), strings)).IsTrue();
        }
    }
}
