// The hand-written `timing` and `metadata` writer says what the source-generated serializer of the same
// shapes says: the same names in the same order, the same strings, and numbers of equal value (times are
// written as their microsecond decimal, not the shortest round-trip double, so only the text may differ).
using System.IO.Pipelines;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Requests.Tests.Model;

public class TransferInfoJsonTests
{
    private static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static UpstreamResponse Response(string? contentType, int attempts) => new(200,
        contentType is null ? [] : [new HeaderEntry("Content-Type", contentType)], "http://example.test/fallback", false,
        new Pipe().Reader, Task.FromResult(new TransferResult(null, TransferInfo.Empty)), attempts, () => { });

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Relaxed))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string Direct(TransferInfo info, UpstreamResponse upstream) => Write(w =>
    {
        TransferInfoJson.WriteTiming(w, info);
        TransferInfoJson.WriteMetadata(w, info, upstream);
    });

    private static string Serialized(TransferInfo info, UpstreamResponse upstream) => Write(w =>
    {
        w.WritePropertyName("timing");
        JsonSerializer.Serialize(w, new TimingView(info.Total, info.NameLookup, info.Connect, info.PreTransfer, info.StartTransfer, info.Redirect),
            RequestsJson.Default.TimingView);
        w.WritePropertyName("metadata");
        JsonSerializer.Serialize(w, new MetadataView(info.EffectiveUrl ?? upstream.EffectiveUrl, info.RedirectCount, info.SizeDownload,
            info.SizeUpload, info.SpeedDownload, info.SpeedUpload, info.ContentType ?? upstream.ContentType, info.PrimaryIp, upstream.Attempts),
            RequestsJson.Default.MetadataView);
    });

    /// <summary>Same structure, names, order and strings; numbers compared by value.</summary>
    private static async Task AssertSameJson(JsonElement a, JsonElement b, string path)
    {
        await Assert.That(a.ValueKind).IsEqualTo(b.ValueKind).Because(path);
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
                var left = a.EnumerateObject().ToList();
                var right = b.EnumerateObject().ToList();
                await Assert.That(left.Select(p => p.Name)).IsEquivalentTo(right.Select(p => p.Name), TUnit.Assertions.Enums.CollectionOrdering.Matching).Because(path);
                for (var i = 0; i < left.Count; i++) await AssertSameJson(left[i].Value, right[i].Value, path + "." + left[i].Name);
                break;
            case JsonValueKind.Number:
                await Assert.That(a.GetDouble()).IsEqualTo(b.GetDouble()).Because($"{path}: {a.GetRawText()} vs {b.GetRawText()}");
                break;
            case JsonValueKind.String:
                await Assert.That(a.GetString()).IsEqualTo(b.GetString()).Because(path);
                break;
        }
    }

    [Test]
    public async Task Random_transfers_are_written_as_the_serializer_writes_them()
    {
        var random = new Random(1234);
        double Seconds() => random.Next(4) switch
        {
            0 => 0,
            1 => random.Next(1, 1000) / 1_000_000d, // a few microseconds: "5E-06" from the serializer, 0.000005 here
            2 => random.NextInt64(1, 10_000_000) / 1_000_000d,
            _ => random.NextInt64(1, 4_000_000_000_000) / 1_000_000d,
        };
        string? Maybe(string text) => random.Next(3) == 0 ? null : text;
        for (var i = 0; i < 2000; i++)
        {
            var info = new TransferInfo
            {
                Total = Seconds(), NameLookup = Seconds(), Connect = Seconds(), PreTransfer = Seconds(), StartTransfer = Seconds(), Redirect = Seconds(),
                RedirectCount = random.Next(0, 20), SizeDownload = random.NextInt64(0, 1L << 40), SizeUpload = random.NextInt64(0, 1L << 30),
                SpeedDownload = random.NextInt64(0, 1L << 40), SpeedUpload = random.Next(2) == 0 ? 0 : random.NextInt64(0, 1L << 33),
                ContentType = Maybe("text/plain; charset=\"utf-8\" \u00e9"), EffectiveUrl = Maybe($"http://h{i}.test/p?q=\"x\"&\u00fc={i}"),
                PrimaryIp = Maybe(random.Next(2) == 0 ? "127.0.0.1" : "::1"),
            };
            var upstream = Response(Maybe("application/json"), random.Next(0, 4));
            var direct = Direct(info, upstream);
            using var a = JsonDocument.Parse(direct);
            using var b = JsonDocument.Parse(Serialized(info, upstream));
            await AssertSameJson(a.RootElement, b.RootElement, $"[{i}] {direct}");
        }
    }

    [Test]
    [Arguments(0d, "0")]
    [Arguments(0.000005, "0.000005")]
    [Arguments(0.001234, "0.001234")]
    [Arguments(1.5, "1.5")]
    [Arguments(2d, "2")]
    [Arguments(12.00001, "12.00001")]
    [Arguments(3599.999999, "3599.999999")]
    [Arguments(0.0000004, "0")] // below libcurl's resolution: rounded to the microsecond
    public async Task Times_are_their_microsecond_decimal(double seconds, string expected)
    {
        var text = Write(w => TransferInfoJson.WriteTiming(w, TransferInfo.Empty with { Total = seconds }));
        await Assert.That(text).StartsWith($"{{\"timing\":{{\"total\":{expected},");
    }

    [Test]
    public async Task Times_outside_the_microsecond_range_keep_the_double()
    {
        var text = Write(w => TransferInfoJson.WriteTiming(w, TransferInfo.Empty with { Total = -1, Connect = 5e12 }));
        using var doc = JsonDocument.Parse(text);
        await Assert.That(doc.RootElement.GetProperty("timing").GetProperty("total").GetDouble()).IsEqualTo(-1);
        await Assert.That(doc.RootElement.GetProperty("timing").GetProperty("connect").GetDouble()).IsEqualTo(5e12);
    }

    [Test]
    public async Task Fractional_speeds_keep_the_double()
    {
        var text = Write(w => TransferInfoJson.WriteMetadata(w, TransferInfo.Empty with { SpeedDownload = 12.5, SpeedUpload = 7 }, Response(null, 1)));
        await Assert.That(text).Contains("\"speed_download\":12.5,\"speed_upload\":7,\"content_type\":null,\"attempts\":1}");
    }
}
