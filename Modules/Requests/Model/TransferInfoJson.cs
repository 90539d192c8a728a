// The `timing` and `metadata` objects every door writes for a finished transfer (the json envelope of
// docs/api.md (Executing requests), the channel's response.end of docs/api.md (Channel)): one
// source-generated shape for both, so they stay equal.
using System.Text.Json;
using System.Text.Json.Serialization;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Requests.Model;

public static class TransferInfoJson
{
    public static void WriteTiming(Utf8JsonWriter w, TransferInfo info)
    {
        w.WritePropertyName("timing");
        JsonSerializer.Serialize(w, new TimingView(info.Total, info.NameLookup, info.Connect, info.PreTransfer, info.StartTransfer, info.Redirect),
            RequestsJson.Default.TimingView);
    }

    public static void WriteMetadata(Utf8JsonWriter w, TransferInfo info, UpstreamResponse upstream)
    {
        w.WritePropertyName("metadata");
        JsonSerializer.Serialize(w, new MetadataView(info.EffectiveUrl ?? upstream.EffectiveUrl, info.RedirectCount, info.SizeDownload,
            info.SizeUpload, info.SpeedDownload, info.SpeedUpload, info.ContentType ?? upstream.ContentType, info.PrimaryIp, upstream.Attempts),
            RequestsJson.Default.MetadataView);
    }
}

/// <summary>libcurl's phase times of a transfer, in seconds.</summary>
internal sealed record TimingView(double Total, double Namelookup, double Connect, double Pretransfer, double Starttransfer, double Redirect);

/// <summary>Facts of a finished transfer; `content_type` is always present (null when unknown), `primary_ip` only when known.</summary>
internal sealed record MetadataView(
    string EffectiveUrl,
    int RedirectCount,
    long SizeDownload,
    long SizeUpload,
    double SpeedDownload,
    double SpeedUpload,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ContentType,
    string? PrimaryIp,
    int Attempts);
