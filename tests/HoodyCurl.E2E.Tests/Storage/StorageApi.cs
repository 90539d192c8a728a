// Helpers for the storage E2E tests: downloads hashed as they stream (never held whole in memory),
// sent without client-side path canonicalisation so encoded slashes and dots reach the sidecar as typed.
using System.Security.Cryptography;

namespace HoodyCurl.E2E.Tests.Storage;

internal static class StorageApi
{
    internal sealed record Download(int Status, string? ContentType, long? ContentLength, string? ContentRange, string? ETag, long Length, string Sha256);

    public static async Task<Download> DownloadAsync(HttpClient client, string path, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(client.BaseAddress + path.TrimStart('/'), new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
        configure?.Invoke(request);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            total += read;
        }
        return new Download((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, response.Content.Headers.ContentLength,
            response.Content.Headers.ContentRange?.ToString(), response.Headers.ETag?.ToString(), total, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }
}
