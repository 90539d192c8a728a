using System.Globalization;
using System.Net;
using System.Text;
using HoodyCurl.Requests.Security;

namespace HoodyCurl.Requests.Tests.Security;

/// <summary>Randomized checks with fixed seeds, so a failure is reproducible and the run time bounded.</summary>
public class SsrfGuardFuzzTests
{
    private const int Iterations = 5000;

    private static readonly SsrfGuard Guard = new(new SsrfOptions
    {
        AllowCidrs = ["127.0.0.1/32"],
        OwnEndpoints = [new IPEndPoint(IPAddress.Loopback, 8080)],
        Resolve = ["evil.test:80:127.0.0.2", "ok.test:443:93.184.216.34"],
    });

    [Test]
    public async Task Random_urls_never_throw_and_literals_are_judged_as_their_address()
    {
        var random = new Random(20260511);
        var failures = new List<string>();
        int ipv4Spellings = 0;
        int ipv6Literals = 0;
        for (int i = 0; i < Iterations; i++)
        {
            GeneratedUrl generated = RandomUrlGenerator.Next(random);
            try
            {
                string? failure = Check(generated, ref ipv4Spellings, ref ipv6Literals);
                if (failure is not null)
                {
                    failures.Add($"{Escape(generated.Url)}: {failure}");
                }
            }
            catch (Exception exception)
            {
                failures.Add($"{Escape(generated.Url)}: threw {exception.GetType().Name}: {exception.Message}");
            }
        }

        await Assert.That(string.Join('\n', failures.Take(20))).IsEqualTo(string.Empty);
        await Assert.That(ipv4Spellings).IsGreaterThan(Iterations / 5);
        await Assert.That(ipv6Literals).IsGreaterThan(Iterations / 10);
    }

    [Test]
    public async Task Embedded_and_mapped_forms_are_judged_as_their_ipv4()
    {
        var random = new Random(7);
        var failures = new List<string>();
        for (int i = 0; i < Iterations; i++)
        {
            uint v4 = RandomUrlGenerator.RandomIpv4(random);
            int port = random.Next(3) == 0 ? 8080 : random.Next(1, 65536);
            var address = new IPAddress([(byte)(v4 >> 24), (byte)(v4 >> 16), (byte)(v4 >> 8), (byte)v4]);
            SsrfVerdict direct = Guard.CheckAddress(address, port);

            SsrfVerdict mapped = Guard.CheckAddress(address.MapToIPv6(), port);
            if (mapped.Allowed != direct.Allowed || mapped.Rule != direct.Rule)
            {
                failures.Add($"{address.MapToIPv6()}:{port} {mapped.Rule} vs {direct.Rule}");
            }

            foreach (UInt128 embedding in Embeddings(v4))
            {
                IPAddress outer = FromBits(embedding);
                SsrfVerdict verdict = Guard.CheckAddress(outer, port);
                string expectedRule = direct.Allowed ? verdict.Rule : SsrfRules.Embedded(direct.Rule);
                if (verdict.Allowed != direct.Allowed || verdict.Rule != expectedRule)
                {
                    failures.Add($"{outer}:{port} {verdict.Rule} vs {direct.Rule}");
                }
            }
        }

        await Assert.That(string.Join('\n', failures.Take(20))).IsEqualTo(string.Empty);
    }

    private static string? Check(GeneratedUrl generated, ref int ipv4Spellings, ref int ipv6Literals)
    {
        bool parsed = UrlCanonicalizer.TryParse(generated.Url, out CanonicalUrl? canonical, out string? error);
        if (parsed != canonical is not null || parsed == error is not null)
        {
            return "TryParse result, canonical and error disagree";
        }

        SsrfVerdict verdict = Guard.CheckUrl(generated.Url, out CanonicalUrl? checkedUrl);
        if (string.IsNullOrEmpty(verdict.Describe()) || string.IsNullOrEmpty(verdict.Rule))
        {
            return "empty verdict text";
        }

        if (checkedUrl?.LiteralAddress is { } literal)
        {
            SsrfVerdict direct = Guard.CheckAddress(literal, checkedUrl.Port);
            if (verdict != direct)
            {
                return $"CheckUrl said {verdict.Rule}, CheckAddress({literal}) said {direct.Rule}";
            }
        }

        if (generated.Expected is not { } expected)
        {
            return null;
        }

        if (!parsed || canonical!.LiteralAddress is null)
        {
            return $"clean spelling of {expected} not recognised ({error})";
        }

        if (!canonical.LiteralAddress.Equals(expected))
        {
            return $"read as {canonical.LiteralAddress}, expected {expected}";
        }

        if (verdict != Guard.CheckAddress(expected, canonical.Port))
        {
            return $"verdict {verdict.Rule} differs from CheckAddress({expected})";
        }

        if (generated.IsIpv4Spelling)
        {
            ipv4Spellings++;
        }
        else
        {
            ipv6Literals++;
        }

        return null;
    }

    private static IEnumerable<UInt128> Embeddings(uint v4)
    {
        yield return new UInt128(0x0064_ff9b_0000_0000UL, v4);              // NAT64, RFC 6052
        yield return new UInt128(0x2002_0000_0000_0000UL | ((ulong)v4 << 16), 1); // 6to4, RFC 3056
        if (v4 > 1)
        {
            yield return v4;                                              // IPv4-compatible
        }
    }

    private static IPAddress FromBits(UInt128 bits)
    {
        var bytes = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, bits);
        return new IPAddress(bytes);
    }

    private static string Escape(string text)
    {
        var builder = new StringBuilder();
        foreach (char c in text.Length > 200 ? text[..200] + "..." : text)
        {
            builder.Append(c is < ' ' or >= '\u007f' ? "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture) : c.ToString());
        }

        return builder.ToString();
    }
}
