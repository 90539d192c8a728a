// The contract's error shape (docs/api.md D2): {"error":"CODE","code":"CODE","message":"text"} with a status.
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace HoodyCurl.Kernel.Errors;

public sealed record ApiError(int Status, string Code, string Message)
{
    /// <summary>Optional Retry-After seconds (503 queue full, SSE capacity).</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Extra string fields written after "message" (e.g. "status" of a job, a "hint").</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Extra { get; init; }

    public static ApiError Validation(string message) => new(400, ErrorCodes.Validation, message);
    public static ApiError NotFound(string code, string message) => new(404, code, message);
    public static ApiError Internal(string message) => new(500, ErrorCodes.Internal, message);

    public byte[] ToJsonBytes()
    {
        using var buffer = new MemoryStream(128);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("error", Code);
            writer.WriteString("code", Code);
            writer.WriteString("message", ServerPaths.Redact(Message));
            if (Extra is not null) foreach (var (name, value) in Extra) writer.WriteString(name, value);
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The only headers set before an error is written that the error answer keeps.</summary>
    private static readonly HashSet<string> KeptOnErrors = new(StringComparer.OrdinalIgnoreCase) { "X-Request-Id", "Allow", "WWW-Authenticate" };

    /// <summary>Writes this error as the response, unless the response has already started.</summary>
    public async Task WriteAsync(HttpContext context)
    {
        var response = context.Response;
        if (response.HasStarted) { context.Abort(); return; }
        // Nothing a handler copied from an upstream (Cache-Control, Set-Cookie, ...) may ride on an error answer.
        foreach (var name in response.Headers.Keys.ToArray())
            if (!KeptOnErrors.Contains(name)) response.Headers.Remove(name);
        response.StatusCode = Status;
        response.ContentType = "application/json";
        if (RetryAfterSeconds is { } seconds) response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var bytes = ToJsonBytes();
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }
}

/// <summary>Thrown where a handler cannot go on; the error middleware writes it in the contract's shape.</summary>
public sealed class ApiErrorException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}
