using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// /digest-auth/{qop}/{user}/{pass}: real MD5 Digest authentication (RFC 7616, compatible with the
/// RFC 2617 clients use). qop "auth" challenges with qop="auth"; any other value challenges without
/// qop (the RFC 2069 form). Only nonces this server issued are accepted.
/// </summary>
internal sealed class DigestAuthEndpoints
{
    private const string Realm = "test";
    private readonly ConcurrentDictionary<string, byte> _issuedNonces = new(StringComparer.Ordinal);
    private readonly string _opaque = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public void Map(IEndpointRouteBuilder routes) => routes.Map("/digest-auth/{qop}/{user}/{pass}", DigestAsync);

    private Task DigestAsync(HttpContext context)
    {
        bool withQop = RouteValue.String(context, "qop") == "auth";
        string user = RouteValue.String(context, "user");
        string pass = RouteValue.String(context, "pass");
        var parameters = DigestHeader.Parse(context.Request.Headers.Authorization.ToString());
        if (parameters is not null && Verify(context, parameters, withQop, user, pass))
        {
            return TokenAuthEndpoints.AuthenticatedAsync(context, "user", user);
        }

        string nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _issuedNonces[nonce] = 0;
        string qop = withQop ? ", qop=\"auth\"" : "";
        return TokenAuthEndpoints.ChallengeAsync(context, $"Digest realm=\"{Realm}\"{qop}, nonce=\"{nonce}\", opaque=\"{_opaque}\", algorithm=MD5");
    }

    private bool Verify(HttpContext context, Dictionary<string, string> p, bool withQop, string user, string pass)
    {
        string Get(string key) => p.TryGetValue(key, out string? value) ? value : "";

        string rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        if (Get("username") != user || Get("realm") != Realm || Get("uri") != rawTarget || !_issuedNonces.ContainsKey(Get("nonce")))
        {
            return false;
        }
        if (p.TryGetValue("algorithm", out string? algorithm) && !algorithm.Equals("MD5", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string ha1 = Md5Hex($"{user}:{Realm}:{pass}");
        string ha2 = Md5Hex($"{context.Request.Method}:{Get("uri")}");
        string expected = withQop
            ? Md5Hex($"{ha1}:{Get("nonce")}:{Get("nc")}:{Get("cnonce")}:auth:{ha2}")
            : Md5Hex($"{ha1}:{Get("nonce")}:{ha2}");
        if (withQop && Get("qop") != "auth")
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(Get("response").ToLowerInvariant()));
    }

    // MD5 is what the Digest scheme specifies; it authenticates test credentials, nothing more.
#pragma warning disable CA5351
    private static string Md5Hex(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351
}
