namespace HoodyCurl.TestUpstream.RawHeaders;

/// <summary>
/// A request line and its header fields exactly as they arrived on the wire: original name case,
/// original order, one entry per field line. Kestrel's header dictionary keeps neither.
/// </summary>
internal sealed record RawRequestHead(string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers);
