using System.Text;

namespace HoodyCurl.Requests.Security;

/// <summary>
/// IDNA (UTS #46) maps fullwidth forms, ideographic full stops and mathematical digits to ASCII before DNS, so
/// <c>１２７．０．０．１</c> or <c>ｌｏｃａｌｈｏｓｔ</c> name the same host as their ASCII spelling. Folding them
/// here lets the guard see that; other non-ASCII text (real IDN) is left as given.
/// </summary>
internal static class HostFolding
{
    public static string Fold(string host)
    {
        if (!host.AsSpan().ContainsAnyExceptInRange('\0', '\x7f'))
        {
            return host;
        }

        var builder = new StringBuilder(host.Length);
        foreach (Rune rune in host.EnumerateRunes())
        {
            int value = rune.Value;
            switch (value)
            {
                case >= 0xFF01 and <= 0xFF5E:   // fullwidth ASCII
                    builder.Append(char.ToLowerInvariant((char)(value - 0xFEE0)));
                    break;
                case 0x3002 or 0xFF61:          // ideographic and halfwidth ideographic full stop
                    builder.Append('.');
                    break;
                case >= 0x1D7CE and <= 0x1D7FF: // mathematical digits, five styles of 0-9
                    builder.Append((char)('0' + ((value - 0x1D7CE) % 10)));
                    break;
                default:
                    builder.Append(rune.ToString());
                    break;
            }
        }

        return builder.ToString();
    }
}
