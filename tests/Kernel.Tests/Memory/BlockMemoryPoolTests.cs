// The response-body block pool: a returned block serves the next rent, a double Dispose never hands one block
// to two renters, the free list stops at its cap, Trim empties it, and a Pipe over the pool carries bodies
// larger than one block byte-exact.
using System.Buffers;
using System.IO.Pipelines;
using HoodyCurl.Kernel.Memory;

namespace HoodyCurl.Kernel.Tests.Memory;

public class BlockMemoryPoolTests
{
    [Test]
    public async Task A_returned_block_serves_the_next_rent()
    {
        using var pool = new BlockMemoryPool(4096, 8);
        var first = pool.Rent(100);
        await Assert.That(first.Memory.Length).IsEqualTo(4096);
        first.Memory.Span[0] = 42;
        var array = first.Memory;
        first.Dispose();
        await Assert.That(pool.FreeCount).IsEqualTo(1);
        using var second = pool.Rent();
        await Assert.That(pool.Created).IsEqualTo(1);
        await Assert.That(pool.FreeCount).IsEqualTo(0);
        await Assert.That(second.Memory.Span.Overlaps(array.Span)).IsTrue();
    }

    [Test]
    public async Task A_second_dispose_does_not_free_the_block_twice()
    {
        using var pool = new BlockMemoryPool(1024, 8);
        var owner = pool.Rent();
        owner.Dispose();
        owner.Dispose();
        await Assert.That(pool.FreeCount).IsEqualTo(1);
        using var a = pool.Rent();
        using var b = pool.Rent();
        await Assert.That(a.Memory.Span.Overlaps(b.Memory.Span)).IsFalse();
        await Assert.That(pool.Created).IsEqualTo(2);
    }

    [Test]
    public async Task A_disposed_rent_no_longer_gives_its_memory()
    {
        using var pool = new BlockMemoryPool(1024, 8);
        var owner = pool.Rent();
        owner.Dispose();
        await Assert.That(() => owner.Memory).Throws<ObjectDisposedException>();
    }

    [Test]
    public async Task The_free_list_stops_at_its_cap_and_trim_empties_it()
    {
        using var pool = new BlockMemoryPool(1024, 3);
        var owners = Enumerable.Range(0, 10).Select(_ => pool.Rent()).ToList();
        foreach (var owner in owners) owner.Dispose();
        await Assert.That(pool.FreeCount).IsEqualTo(3);
        pool.Trim();
        await Assert.That(pool.FreeCount).IsEqualTo(0);
        using var again = pool.Rent();
        await Assert.That(pool.Created).IsEqualTo(11);
    }

    [Test]
    public async Task Larger_rents_than_a_block_are_refused()
    {
        using var pool = new BlockMemoryPool(1024, 3);
        await Assert.That(pool.MaxBufferSize).IsEqualTo(1024);
        await Assert.That(() => pool.Rent(1025)).Throws<ArgumentOutOfRangeException>();
    }

    [Test]
    public async Task Concurrent_renters_never_share_a_block()
    {
        using var pool = new BlockMemoryPool(64, 16);
        var failures = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                using var owner = pool.Rent();
                var span = owner.Memory.Span;
                span.Fill((byte)worker);
                Thread.SpinWait(10);
                foreach (var b in span)
                {
                    if (b != (byte)worker) { Interlocked.Increment(ref failures); break; }
                }
            }
        })));
        await Assert.That(failures).IsEqualTo(0);
        await Assert.That(pool.FreeCount).IsLessThanOrEqualTo(16);
        // Each worker returns its block before it rents again, so at most one block per worker ever exists.
        await Assert.That(pool.Created).IsLessThanOrEqualTo(8);
    }

    [Test]
    public async Task A_pipe_over_the_pool_carries_a_body_of_many_blocks()
    {
        using var pool = new BlockMemoryPool(1024, 64);
        var pipe = new Pipe(new PipeOptions(pool: pool, minimumSegmentSize: 1024, useSynchronizationContext: false));
        var body = new byte[10_000 + 17];
        new Random(7).NextBytes(body);
        // Writes of uneven sizes, up to three blocks each (libcurl's callbacks are not block-sized).
        var reading = Task.Run(async () =>
        {
            var received = new MemoryStream();
            while (true)
            {
                var result = await pipe.Reader.ReadAsync();
                foreach (var segment in result.Buffer) received.Write(segment.Span);
                pipe.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted) break;
            }
            await pipe.Reader.CompleteAsync();
            return received.ToArray();
        });
        for (var offset = 0; offset < body.Length;)
        {
            var n = Math.Min(body.Length - offset, 1 + (offset * 7 % 3000));
            pipe.Writer.Write(body.AsSpan(offset, n));
            await pipe.Writer.FlushAsync();
            offset += n;
        }
        await pipe.Writer.CompleteAsync();
        await Assert.That((await reading).SequenceEqual(body)).IsTrue();
        await Assert.That(pool.Created).IsGreaterThan(0);
        // Every block came back once the pipe was done with it.
        await Assert.That(pool.FreeCount).IsEqualTo((int)pool.Created);
    }
}
