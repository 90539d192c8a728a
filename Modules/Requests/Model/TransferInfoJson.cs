// The `timing` and `metadata` objects every door writes for a finished transfer (the json envelope of
// docs/api.md (Executing requests), the channel's response.end of docs/api.md (Channel)): one writer so both shapes stay equal.
using System.Text.Json;

namespace HoodyCurl.Requests.Model;

public static class TransferInfoJson
{
    public static void WriteTiming(Utf8JsonWriter w, TransferInfo info)
    {
        w.WriteStartObject("timing");
        w.WriteNumber("total", info.Total);
        w.WriteNumber("namelookup", info.NameLookup);
        w.WriteNumber("connect", info.Connect);
        w.WriteNumber("pretransfer", info.PreTransfer);
        w.WriteNumber("starttransfer", info.StartTransfer);
        w.WriteNumber("redirect", info.Redirect);
        w.WriteEndObject();
    }

    public static void WriteMetadata(Utf8JsonWriter w, TransferInfo info, UpstreamResponse upstream)
    {
        w.WriteStartObject("metadata");
        w.WriteString("effective_url", info.EffectiveUrl ?? upstream.EffectiveUrl);
        w.WriteNumber("redirect_count", info.RedirectCount);
        w.WriteNumber("size_download", info.SizeDownload);
        w.WriteNumber("size_upload", info.SizeUpload);
        w.WriteNumber("speed_download", info.SpeedDownload);
        w.WriteNumber("speed_upload", info.SpeedUpload);
        if ((info.ContentType ?? upstream.ContentType) is { } contentType) w.WriteString("content_type", contentType);
        else w.WriteNull("content_type");
        if (info.PrimaryIp is { } ip) w.WriteString("primary_ip", ip);
        w.WriteNumber("attempts", upstream.Attempts);
        w.WriteEndObject();
    }
}
