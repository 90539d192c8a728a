using System.Globalization;

namespace HoodyCurl.TestUpstream.Http;

/// <summary>
/// The one form of the Range header the upstream serves: a single byte range (RFC 9110 14.1.2).
/// Anything else (other units, several ranges, bad syntax) is ignored and the whole body is sent,
/// as RFC 9110 allows.
/// </summary>
internal readonly record struct ByteRange(ByteRange.Kind Outcome, long First, long Last)
{
    public enum Kind { WholeBody, Partial, Unsatisfiable }

    public long Length => Last - First + 1;

    public static ByteRange Parse(string? header, long totalLength)
    {
        var whole = new ByteRange(Kind.WholeBody, 0, totalLength - 1);
        if (string.IsNullOrWhiteSpace(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return whole;
        }
        string spec = header["bytes=".Length..].Trim();
        int dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (spec.Contains(',', StringComparison.Ordinal) || dash < 0)
        {
            return whole;
        }

        string firstText = spec[..dash].Trim();
        string lastText = spec[(dash + 1)..].Trim();
        if (firstText.Length == 0)
        {
            // Suffix range: the final n bytes.
            if (!TryParse(lastText, out long suffix))
            {
                return whole;
            }
            return suffix == 0 || totalLength == 0
                ? new ByteRange(Kind.Unsatisfiable, 0, 0)
                : new ByteRange(Kind.Partial, Math.Max(0, totalLength - suffix), totalLength - 1);
        }

        if (!TryParse(firstText, out long first))
        {
            return whole;
        }
        long last = totalLength - 1;
        if (lastText.Length > 0)
        {
            if (!TryParse(lastText, out long requestedLast) || requestedLast < first)
            {
                return whole;
            }
            last = Math.Min(requestedLast, totalLength - 1);
        }
        return first >= totalLength
            ? new ByteRange(Kind.Unsatisfiable, 0, 0)
            : new ByteRange(Kind.Partial, first, last);
    }

    private static bool TryParse(string text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
