// What a channel socket needs from the rest of the process, resolved once: the engine's executor and
// options (the REST door's limits), the process-wide --max-concurrent-sync permits (shared with sync REST),
// the shared SSE settings and permits, metrics, the clock and storage (`save`).
using HoodyCurl.Kernel.Sse;
using HoodyCurl.Requests;

namespace HoodyCurl.Realtime.Channel;

internal sealed record ChannelServices(
    IRequestExecutor Executor, RequestsOptions Requests, ISyncLimiter SyncLimiter, SseSettings Sse, SseCapacity Capacity, RealtimeMetrics Metrics, TimeProvider Time,
    HoodyCurl.Storage.IFileStore Files, bool CacheEnabled = false);
