// Fixed-size blocks for the pipes that carry response bodies from libcurl's thread to the caller's (issue 13).
// Each relayed request writes its body into a fresh Pipe; with the default pool every segment was a 16 KiB
// array rented from ArrayPool<byte>.Shared, which keeps 32 arrays per size and core: at 256 requests in flight
// most rents missed and allocated, 21 KB of managed allocation per 1 KiB request instead of 9 KB, and as many
// gen1 collections as gen0 ones, since a buffer in flight outlives a gen0 collection. Blocks here come back for
// the next request whatever the concurrency; they live on the pinned object heap (never copied by a compacting
// collection), at most MaxRetained of them are kept free, and Trim() drops the free ones when the process goes
// quiet (the host's MemoryTrimmer), so a burst does not keep its buffers.
using System.Buffers;
using System.Collections.Concurrent;

namespace HoodyCurl.Kernel.Memory;

public sealed class BlockMemoryPool : MemoryPool<byte>
{
    /// <summary>The block size of the body pipes: one pipe segment (a larger write callback spans several).</summary>
    public const int DefaultBlockSize = 16 * 1024;
    /// <summary>Free blocks kept by default (8 MiB of 16 KiB blocks, two per caller at 256 in flight); more are left to the GC.</summary>
    public const int DefaultMaxRetained = 512;

    /// <summary>The process's pool for response-body pipes.</summary>
    public static BlockMemoryPool Bodies { get; } = new(DefaultBlockSize, DefaultMaxRetained);

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _maxRetained;
    private int _freeCount;
    private long _created;

    public BlockMemoryPool(int blockSize, int maxRetained)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetained);
        BlockSize = blockSize;
        _maxRetained = maxRetained;
    }

    public int BlockSize { get; }

    /// <summary>Pipes ask the pool only for segments up to this size; larger ones they allocate themselves.</summary>
    public override int MaxBufferSize => BlockSize;

    /// <summary>Free blocks held now.</summary>
    public int FreeCount => Volatile.Read(ref _freeCount);

    /// <summary>Bytes in free blocks now.</summary>
    public long FreeBytes => (long)Math.Max(0, FreeCount) * BlockSize;

    /// <summary>Blocks allocated since start (a rent that found no free block).</summary>
    public long Created => Interlocked.Read(ref _created);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Rented = true;
            return block;
        }
        Interlocked.Increment(ref _created);
        return new Block(this, BlockSize);
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) > _maxRetained)
        {
            Interlocked.Decrement(ref _freeCount);
            return; // beyond the cap: left to the GC
        }
        _free.Enqueue(block);
    }

    /// <summary>Drops every free block (the next collection frees them); blocks in use come back as usual.</summary>
    public void Trim()
    {
        while (_free.TryDequeue(out _)) Interlocked.Decrement(ref _freeCount);
    }

    protected override void Dispose(bool disposing) => Trim();

    private sealed class Block(BlockMemoryPool pool, int size) : IMemoryOwner<byte>
    {
        // On the pinned object heap, and marked so: a socket operation's Memory.Pin() then takes no GCHandle.
        private readonly Memory<byte> _memory = System.Runtime.InteropServices.MemoryMarshal.CreateFromPinnedArray(
            GC.AllocateUninitializedArray<byte>(size, pinned: true), 0, size);

        public bool Rented = true;

        public Memory<byte> Memory => Rented ? _memory : throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            // A second Dispose of the same rent must not put the block in the queue twice.
            if (!Rented) return;
            Rented = false;
            pool.Return(this);
        }
    }
}
