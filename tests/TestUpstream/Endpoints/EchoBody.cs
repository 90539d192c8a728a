using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace HoodyCurl.TestUpstream.Endpoints;

/// <summary>One uploaded multipart file, summarised: the content itself is hashed, never kept.</summary>
internal sealed record EchoFile(string FileName, string? ContentType, long Length, string Sha256Hex);

/// <summary>
/// What /echo reports about a request body, read in one streaming pass: length and SHA-256 always,
/// the bytes themselves when at most <see cref="InlineLimit"/>, and the fields of a form body.
/// </summary>
internal sealed record EchoBody(long Length, string Sha256Hex, byte[]? Bytes, Dictionary<string, string> Form, Dictionary<string, EchoFile> Files)
{
    /// <summary>Bodies above this size are hashed and counted but not echoed back inline.</summary>
    public const int InlineLimit = 16 * 1024 * 1024;

    public static async Task<EchoBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var tap = new BodyTap(request.Body, InlineLimit);
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        var files = new Dictionary<string, EchoFile>(StringComparer.Ordinal);
        try
        {
            if (request.HasFormContentType && MultipartBoundary(request.ContentType) is { } boundary)
            {
                await ReadMultipartAsync(tap, boundary, form, files, cancellationToken);
            }
            else if (request.HasFormContentType)
            {
                await ReadUrlEncodedAsync(tap, form, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // A malformed form is still echoed as bytes; tests of broken bodies want to see them.
        }
        await tap.DrainAsync(cancellationToken);
        return new EchoBody(tap.BytesRead, tap.Sha256Hex(), tap.Captured, form, files);
    }

    private static string? MultipartBoundary(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        string? boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        return string.IsNullOrEmpty(boundary) ? null : boundary;
    }

    private static async Task ReadUrlEncodedAsync(Stream body, Dictionary<string, string> form, CancellationToken cancellationToken)
    {
        using var reader = new FormReader(body)
        {
            ValueCountLimit = int.MaxValue,
            KeyLengthLimit = int.MaxValue,
            ValueLengthLimit = int.MaxValue,
        };
        foreach (var (name, values) in await reader.ReadFormAsync(cancellationToken))
        {
            form[name] = string.Join(", ", values.ToArray());
        }
    }

    private static async Task ReadMultipartAsync(Stream body, string boundary, Dictionary<string, string> form, Dictionary<string, EchoFile> files, CancellationToken cancellationToken)
    {
        var reader = new MultipartReader(boundary, body) { HeadersLengthLimit = 1024 * 1024, BodyLengthLimit = null };
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
            {
                continue;
            }
            string name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
            if (disposition.IsFileDisposition())
            {
                string fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
                files[name] = await SummariseFileAsync(section.Body, fileName, section.ContentType, cancellationToken);
                continue;
            }
            using var text = new StreamReader(section.Body, Encoding.UTF8);
            string value = await text.ReadToEndAsync(cancellationToken);
            form[name] = form.TryGetValue(name, out string? earlier) ? earlier + ", " + value : value;
        }
    }

    private static async Task<EchoFile> SummariseFileAsync(Stream content, string fileName, string? contentType, CancellationToken cancellationToken)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[64 * 1024];
        long length = 0;
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            sha256.AppendData(buffer, 0, read);
            length += read;
        }
        return new EchoFile(fileName, contentType, length, Convert.ToHexStringLower(sha256.GetHashAndReset()));
    }
}
