// The `timing` and `metadata` objects every door writes for a finished transfer (the json envelope of
// docs/api.md (Executing requests), the channel's response.end of docs/api.md (Channel)): one writer for
// both, so they stay equal. Written field by field rather than through the source-generated serializer:
// that path spent 3.6 of the envelope's 20 µs per 1 KiB request (perf, issue 13), most of it formatting
// six doubles by shortest round trip. The shapes are still declared below (TimingView, MetadataView) and
// the tests check this writer against the serializer's output.
using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace HoodyCurl.Requests.Model;

public static class TransferInfoJson
{
    private static readonly JsonEncodedText Timing = JsonEncodedText.Encode("timing");
    private static readonly JsonEncodedText Total = JsonEncodedText.Encode("total");
    private static readonly JsonEncodedText Namelookup = JsonEncodedText.Encode("namelookup");
    private static readonly JsonEncodedText Connect = JsonEncodedText.Encode("connect");
    private static readonly JsonEncodedText Pretransfer = JsonEncodedText.Encode("pretransfer");
    private static readonly JsonEncodedText Starttransfer = JsonEncodedText.Encode("starttransfer");
    private static readonly JsonEncodedText Redirect = JsonEncodedText.Encode("redirect");
    private static readonly JsonEncodedText Metadata = JsonEncodedText.Encode("metadata");
    private static readonly JsonEncodedText EffectiveUrl = JsonEncodedText.Encode("effective_url");
    private static readonly JsonEncodedText RedirectCount = JsonEncodedText.Encode("redirect_count");
    private static readonly JsonEncodedText SizeDownload = JsonEncodedText.Encode("size_download");
    private static readonly JsonEncodedText SizeUpload = JsonEncodedText.Encode("size_upload");
    private static readonly JsonEncodedText SpeedDownload = JsonEncodedText.Encode("speed_download");
    private static readonly JsonEncodedText SpeedUpload = JsonEncodedText.Encode("speed_upload");
    private static readonly JsonEncodedText ContentType = JsonEncodedText.Encode("content_type");
    private static readonly JsonEncodedText PrimaryIp = JsonEncodedText.Encode("primary_ip");
    private static readonly JsonEncodedText Attempts = JsonEncodedText.Encode("attempts");

    /// <summary>`"timing": {total, namelookup, connect, pretransfer, starttransfer, redirect}`, in seconds.</summary>
    public static void WriteTiming(Utf8JsonWriter w, TransferInfo info)
    {
        w.WriteStartObject(Timing);
        WriteSeconds(w, Total, info.Total);
        WriteSeconds(w, Namelookup, info.NameLookup);
        WriteSeconds(w, Connect, info.Connect);
        WriteSeconds(w, Pretransfer, info.PreTransfer);
        WriteSeconds(w, Starttransfer, info.StartTransfer);
        WriteSeconds(w, Redirect, info.Redirect);
        w.WriteEndObject();
    }

    /// <summary>`"metadata": {…}`; `content_type` is always present (null when unknown), `primary_ip` only when known.</summary>
    public static void WriteMetadata(Utf8JsonWriter w, TransferInfo info, UpstreamResponse upstream)
    {
        w.WriteStartObject(Metadata);
        w.WriteString(EffectiveUrl, info.EffectiveUrl ?? upstream.EffectiveUrl);
        w.WriteNumber(RedirectCount, info.RedirectCount);
        w.WriteNumber(SizeDownload, info.SizeDownload);
        w.WriteNumber(SizeUpload, info.SizeUpload);
        WriteWhole(w, SpeedDownload, info.SpeedDownload);
        WriteWhole(w, SpeedUpload, info.SpeedUpload);
        if ((info.ContentType ?? upstream.ContentType) is { } contentType) w.WriteString(ContentType, contentType);
        else w.WriteNull(ContentType);
        if (info.PrimaryIp is { } ip) w.WriteString(PrimaryIp, ip);
        w.WriteNumber(Attempts, upstream.Attempts);
        w.WriteEndObject();
    }

    /// <summary>
    /// libcurl measures phases in whole microseconds (a CURLINFO_*_TIME double is the *_TIME_T value / 1e6), so a
    /// time is written as that decimal: 0.001234, 1.5, 0. Anything else (negative, not finite, beyond ~31 years)
    /// goes through the writer's own double formatting.
    /// </summary>
    private static void WriteSeconds(Utf8JsonWriter w, JsonEncodedText name, double seconds)
    {
        if (!(seconds >= 0 && seconds < 1e9))
        {
            w.WriteNumber(name, seconds);
            return;
        }
        var micros = (long)Math.Round(seconds * 1_000_000d);
        Span<byte> text = stackalloc byte[24];
        Utf8Formatter.TryFormat(micros / 1_000_000, text, out var length);
        var fraction = micros % 1_000_000;
        if (fraction != 0)
        {
            text[length++] = (byte)'.';
            for (var unit = 100_000; unit > 0 && fraction != 0; unit /= 10)
            {
                text[length++] = (byte)('0' + fraction / unit);
                fraction %= unit;
            }
        }
        w.WritePropertyName(name);
        w.WriteRawValue(text[..length], skipInputValidation: true);
    }

    /// <summary>libcurl's speeds are whole bytes per second (a curl_off_t handed out as a double): written as integers.</summary>
    private static void WriteWhole(Utf8JsonWriter w, JsonEncodedText name, double value)
    {
        if (value >= 0 && value < 9e15 && value == Math.Floor(value)) w.WriteNumber(name, (long)value);
        else w.WriteNumber(name, value);
    }
}

/// <summary>libcurl's phase times of a transfer, in seconds (the shape <see cref="TransferInfoJson.WriteTiming"/> writes).</summary>
internal sealed record TimingView(double Total, double Namelookup, double Connect, double Pretransfer, double Starttransfer, double Redirect);

/// <summary>Facts of a finished transfer (the shape <see cref="TransferInfoJson.WriteMetadata"/> writes).</summary>
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
