// When a response becomes an SSE stream (docs/api.md: Executing requests: SSE passthrough; (Channel)): SSE on, a body-carrying 2xx
// whose Content-Type is text/event-stream, and a body that reaches the relay as plain SSE (not still
// compressed). Shared by the sync passthrough and the channel.
using HoodyCurl.Kernel.Sse;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Requests.Endpoints;

public static class SsePromotion
{
    public static bool Applies(SseSettings settings, CurlRequest request, UpstreamResponse upstream)
    {
        if (!settings.Enabled || request.Save == true || request.EffectiveMethod == "HEAD") return false;
        if (upstream.StatusCode is < 200 or > 299 or 204) return false;
        if (upstream.ContentType is not { } type || !IsEventStream(type)) return false;
        if (!upstream.BodyDecoded && upstream.Headers.Any(h =>
                h.Name.Equals("content-encoding", StringComparison.OrdinalIgnoreCase) && !h.Value.Equals("identity", StringComparison.OrdinalIgnoreCase)))
            return false;
        return true;
    }

    public static bool IsEventStream(string contentType)
    {
        var semicolon = contentType.IndexOf(';');
        var media = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return media.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase);
    }
}
