// A log state that writes its own message as UTF-8. The host's console sink writes such a message straight into its
// output buffer (simple format), skipping the message string and the formatter's text writer; every other sink and
// the json format use the state's key/value pairs and ToString as usual. For the per-request access line (issue 13).
namespace HoodyCurl.Kernel.Logging;

public interface IUtf8LogMessage
{
    /// <summary>
    /// Writes the message (the same text as ToString, without a line end) into <paramref name="destination"/>. Returns
    /// false when it does not fit; the caller retries with a larger buffer.
    /// </summary>
    bool TryWriteMessage(Span<byte> destination, out int written);
}
