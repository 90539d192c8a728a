// Kestrel's buffers from pools the host can empty (issue 13). Kestrel's default pool (.NET 10) keeps every 4 KiB
// block it ever needed and gives them up at 5% per 10 idle seconds, and an evicted block is freed only by a
// collection, which an idle sidecar never runs: after one 64 KiB × 256-connection burst the managed heap held
// 20 MiB of idle blocks for minutes (RSS 69–79 MiB instead of ~30), and the rig's next 100 MiB cell started
// from there. Kestrel takes its pools from IMemoryPoolFactory<byte>; these are BlockMemoryPools of the same
// 4 KiB pinned blocks, and the MemoryTrimmer drops their free blocks when the process goes quiet, together with
// the response-body pool.
using System.Buffers;
using HoodyCurl.Kernel.Memory;
using Microsoft.AspNetCore.Connections;

namespace HoodyCurl.Host;

internal sealed class ServerMemoryPools : IMemoryPoolFactory<byte>
{
    /// <summary>Kestrel's block size (its pools and parsers assume 4 KiB segments).</summary>
    internal const int BlockSize = 4096;
    /// <summary>Free blocks one pool keeps between trims: 64 MiB, so steady heavy load never allocates blocks again.</summary>
    internal const int MaxRetained = 16 * 1024;

    private static readonly List<BlockMemoryPool> Pools = [];

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new BlockMemoryPool(BlockSize, MaxRetained);
        lock (Pools) Pools.Add(pool);
        return pool;
    }

    /// <summary>Drops the free blocks of every pool handed to Kestrel.</summary>
    internal static void Trim()
    {
        lock (Pools)
            foreach (var pool in Pools) pool.Trim();
    }

    /// <summary>
    /// hoody_curl_buffer_pool_free_bytes{pool} (free blocks kept now) and hoody_curl_buffer_pool_allocated_bytes_total{pool}
    /// (blocks ever allocated) for the response-body pool ("bodies") and Kestrel's ("server"), sampled at scrape time.
    /// </summary>
    internal static void RegisterMetrics(HoodyCurl.Kernel.Metrics.MetricsRegistry metrics)
    {
        var free = metrics.Gauge("hoody_curl_buffer_pool_free_bytes", "Bytes in free pooled buffer blocks, kept for reuse until the process goes quiet.", "pool");
        var allocated = metrics.Counter("hoody_curl_buffer_pool_allocated_bytes_total", "Bytes of pooled buffer blocks allocated since start.", "pool");
        var bodiesFree = free.WithLabels("bodies");
        var serverFree = free.WithLabels("server");
        var bodiesAllocated = allocated.WithLabels("bodies");
        var serverAllocated = allocated.WithLabels("server");
        metrics.BeforeScrape(() =>
        {
            var bodies = BlockMemoryPool.Bodies;
            bodiesFree.Set(bodies.FreeBytes);
            bodiesAllocated.IncTo((double)bodies.Created * bodies.BlockSize);
            serverFree.Set(FreeBytes);
            serverAllocated.IncTo(AllocatedBytes);
        });
    }

    /// <summary>Bytes of the blocks the pools handed to Kestrel ever allocated.</summary>
    private static long AllocatedBytes
    {
        get
        {
            lock (Pools) return Pools.Sum(p => p.Created) * BlockSize;
        }
    }

    /// <summary>Bytes in the free blocks of the pools handed to Kestrel.</summary>
    internal static long FreeBytes
    {
        get
        {
            lock (Pools) return Pools.Sum(p => p.FreeBytes);
        }
    }
}
