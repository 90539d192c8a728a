using System.Collections.Concurrent;

namespace HoodyCurl.TestUpstream;

/// <summary>The traces of one server instance, created on first use by either the test or a request.</summary>
internal sealed class TraceRegistry
{
    private readonly ConcurrentDictionary<string, RequestTrace> _traces = new(StringComparer.Ordinal);

    public RequestTrace Get(string id) => _traces.GetOrAdd(id, static key => new RequestTrace(key));
}
