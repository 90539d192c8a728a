// The links module's Prometheus families. Labels are outcomes only: never a token, a link id or a URL.
using HoodyCurl.Kernel.Metrics;

namespace HoodyCurl.Links;

internal sealed class LinkMetrics
{
    /// <summary>The request ran synchronously and its answer was sent (whatever the upstream's status).</summary>
    public const string Ran = "ran";
    /// <summary>mode async: the job was queued (202).</summary>
    public const string Queued = "queued";
    /// <summary>The use was claimed but the sidecar answered with its own error (SSRF_BLOCKED, UPSTREAM_ERROR, QUEUE_FULL, …).</summary>
    public const string Failed = "failed";
    public const string NotFound = "not_found";
    public const string Expired = "expired";
    public const string UsedUp = "used_up";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string InvalidParams = "invalid_params";
    public const string TooLarge = "too_large";

    public static readonly string[] Outcomes = [Ran, Queued, Failed, NotFound, Expired, UsedUp, MethodNotAllowed, InvalidParams, TooLarge];

    private readonly Counter _openings;

    public LinkMetrics(MetricsRegistry registry)
    {
        _openings = registry.Counter("hoody_curl_link_openings_total",
            "Openings of /l/<token> links by outcome: ran, queued, failed, not_found, expired, used_up, method_not_allowed, invalid_params, too_large.",
            "outcome");
        foreach (var outcome in Outcomes) _openings.WithLabels(outcome); // every outcome from the first scrape, at zero
        Created = registry.Counter("hoody_curl_links_created_total", "Links created.");
        Revoked = registry.Counter("hoody_curl_links_revoked_total", "Links revoked.");
    }

    public Counter Created { get; }

    public Counter Revoked { get; }

    public void Opened(string outcome) => _openings.WithLabels(outcome).Inc();
}
