// Issue 14 acceptance: a randomized test of the params substitution against the real binary and a real
// upstream finds no way to inject CR/LF, change the host or escape the declared location. Each round
// sends hostile values for a query, a header and a body param; the echo upstream must see each value
// exactly where it was declared (or the sidecar must refuse a header value that cannot be a header),
// and nothing else: no extra header, no extra query parameter, the same host, path and method.
using System.Text;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Links;

public class LinkParamsFuzzTests
{
    private const string Ascii = "\r\n\0\t \"'&=?#/\\@:;,%+[]{}<>|^`$!*()~.-_\u0001\u001f\u007f";
    private const string Unicode = "\u0085\u2028\u00e9\u4e2d\ud83d\ude00";

    private static string RandomValue(Random random, bool asciiOnly)
    {
        var length = random.Next(0, 24);
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            var roll = random.Next(10);
            if (roll < 4) text.Append((char)random.Next('a', 'z' + 1));
            else if (roll < 9 || asciiOnly) text.Append(Ascii[random.Next(Ascii.Length)]);
            else
            {
                var pick = random.Next(5);
                text.Append(pick == 4 ? "\ud83d\ude00" : Unicode[pick].ToString());
            }
        }
        return text.ToString();
    }

    private static bool IsHeaderSafe(string value) => value.All(c => c == '\t' || (c >= 0x20 && c != 0x7f));

    [Test]
    public async Task Randomized_params_never_inject_change_the_host_or_leave_their_location()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync();
        using var anonymous = LinksApi.Anonymous();
        var (id, path, _) = await LinksApi.CreateAsync(sidecar.Client, LinksApi.Body(upstream.Url("/echo?fixed=1"),
            ",\"method\":\"POST\",\"json\":{\"fixed\":true}",
            """
            ,"params":[{"name":"q","in":"query"},{"name":"X-Tenant","in":"header"},{"name":"note","in":"body"}]
            """));
        var refused = 0;
        const int Rounds = 60;
        for (var round = 0; round < Rounds; round++)
        {
            var q = RandomValue(random, asciiOnly: false);
            var h = RandomValue(random, asciiOnly: true);
            var n = RandomValue(random, asciiOnly: false);
            var why = $"seed {seed} round {round}: q={JsonEncodedText.Encode(q)} h={JsonEncodedText.Encode(h)} n={JsonEncodedText.Encode(n)}";
            using var opened = await anonymous.GetAsync($"{sidecar.BaseUrl}{path}?q={Api.Q(q)}&X-Tenant={Api.Q(h)}&note={Api.Q(n)}");
            var answer = await Api.ReadJsonAsync(opened);
            if (!IsHeaderSafe(h))
            {
                await Assert.That((int)opened.StatusCode).IsEqualTo(400).Because(why);
                await Assert.That(answer.GetProperty("message").GetString()!).Contains("X-Tenant").Because(why);
                refused++;
                continue;
            }
            await Assert.That((int)opened.StatusCode).IsEqualTo(200).Because($"{why}: {answer}");
            await Assert.That(answer.GetProperty("method").GetString()).IsEqualTo("POST").Because(why);
            await Assert.That(answer.GetProperty("path").GetString()).IsEqualTo("/echo").Because(why);
            var query = answer.GetProperty("query");
            await Assert.That(query.EnumerateObject().Select(p => p.Name).Order().ToArray()).IsEquivalentTo(new[] { "fixed", "q" }).Because(why);
            await Assert.That(query.GetProperty("q").GetString()).IsEqualTo(q).Because(why);
            await Assert.That(query.GetProperty("fixed").GetString()).IsEqualTo("1").Because(why);
            await Assert.That(answer.GetProperty("target").GetString()!.StartsWith("/echo?fixed=1&q=", StringComparison.Ordinal)).IsTrue().Because(why);
            var headers = answer.GetProperty("headers");
            await Assert.That(headers.GetProperty("host").GetString()).IsEqualTo($"127.0.0.1:{upstream.Port}").Because(why);
            await Assert.That(headers.GetProperty("x-tenant").GetString()).IsEqualTo(h.Trim(' ', '\t')).Because(why);
            var names = answer.GetProperty("raw_headers").EnumerateArray().Select(x => x.GetProperty("name").GetString()!.ToLowerInvariant()).ToList();
            await Assert.That(names.Except(["host", "user-agent", "accept", "x-tenant", "content-type", "content-length"]).ToArray()).IsEmpty().Because(why);
            await Assert.That(names.Count(x => x == "x-tenant")).IsEqualTo(1).Because(why);
            using var body = JsonDocument.Parse(answer.GetProperty("body").GetString()!);
            await Assert.That(body.RootElement.EnumerateObject().Select(p => p.Name).ToArray()).IsEquivalentTo(new[] { "fixed", "note" }).Because(why);
            await Assert.That(body.RootElement.GetProperty("note").GetString()).IsEqualTo(n).Because(why);
            await Assert.That(body.RootElement.GetProperty("fixed").GetBoolean()).IsTrue().Because(why);
        }
        await Assert.That(refused).IsLessThan(Rounds).Because($"seed {seed}: some rounds must reach the upstream");
        var record = await LinksApi.GetAsync(sidecar.Client, id);
        await Assert.That(record.GetProperty("use_count").GetInt64()).IsEqualTo(Rounds - refused);
    }
}
