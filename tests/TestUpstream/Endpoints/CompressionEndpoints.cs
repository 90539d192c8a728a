using System.IO.Compression;
using HoodyCurl.TestUpstream.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>
/// /gzip, /deflate and /brotli: a JSON body always sent compressed with that Content-Encoding,
/// whatever Accept-Encoding said, so tests see both automatic decoding and raw passthrough.
/// </summary>
internal static class CompressionEndpoints
{
    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.Map("/gzip", context => SendAsync(context, "gzip", "gzipped", body => new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true)));
        // HTTP "deflate" is the zlib format (RFC 9110 8.4.1.2), not raw deflate.
        routes.Map("/deflate", context => SendAsync(context, "deflate", "deflated", body => new ZLibStream(body, CompressionLevel.Fastest, leaveOpen: true)));
        routes.Map("/brotli", context => SendAsync(context, "br", "brotli", body => new BrotliStream(body, CompressionLevel.Fastest, leaveOpen: true)));
    }

    private static Task SendAsync(HttpContext context, string contentEncoding, string flag, Func<Stream, Stream> compressor)
    {
        HttpRequest request = context.Request;
        byte[] json = JsonResponse.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean(flag, true);
            w.WriteString("method", request.Method);
            w.WriteString("accept_encoding", request.Headers.AcceptEncoding.ToString());
            w.WriteStringMap("headers", HeaderSnapshot.Lowercased(request.Headers));
            w.WriteEndObject();
        });

        var compressed = new MemoryStream();
        using (Stream encoder = compressor(compressed))
        {
            encoder.Write(json);
        }
        context.Response.Headers.ContentEncoding = contentEncoding;
        context.Response.Headers.Vary = "Accept-Encoding";
        return Respond.BytesAsync(context, compressed.ToArray(), "application/json");
    }
}
