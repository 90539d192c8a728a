namespace HoodyCurl.Kernel.Tests;

public class IdsTests
{
    [Test]
    public async Task Ids_are_version_7_uuids_with_the_rfc_variant_and_the_given_time()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_780_000_000_123);
        var id = Ids.New(at);
        await Assert.That(Ids.IsUuid(id)).IsTrue();
        await Assert.That(id).IsEqualTo(id.ToLowerInvariant());
        await Assert.That(id[14]).IsEqualTo('7');
        await Assert.That("89ab".Contains(id[19])).IsTrue();
        // The first 48 bits are the Unix milliseconds.
        var ms = Convert.ToInt64(id[..8] + id[9..13], 16);
        await Assert.That(ms).IsEqualTo(at.ToUnixTimeMilliseconds());
    }

    [Test]
    public async Task Ids_sort_by_creation_time()
    {
        var earlier = Ids.New(DateTimeOffset.FromUnixTimeMilliseconds(1_780_000_000_000));
        var later = Ids.New(DateTimeOffset.FromUnixTimeMilliseconds(1_780_000_000_001));
        await Assert.That(string.CompareOrdinal(earlier, later)).IsLessThan(0);
    }

    [Test]
    public async Task Ids_drawn_across_many_pool_refills_and_threads_never_repeat_and_use_every_random_bit()
    {
        // 4 threads x 5,000 ids cross the 4 KiB random pool's refill many times over.
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_780_000_000_000);
        var perThread = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            Enumerable.Range(0, 5000).Select(_ => Ids.New(at)).ToArray())));
        var all = perThread.SelectMany(x => x).ToArray();
        await Assert.That(all.Distinct().Count()).IsEqualTo(all.Length);
        // Every random hex digit position takes many values (none stuck, e.g. at zero after a cleared pool).
        var randomPositions = Enumerable.Range(0, 36).Where(i => i >= 15 && i != 18 && i != 19 && i != 23).ToArray();
        foreach (var i in randomPositions)
            await Assert.That(all.Select(id => id[i]).Distinct().Count()).IsEqualTo(16);
    }

    [Test]
    public async Task The_id_text_is_the_guid_format_of_its_bytes_in_order()
    {
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            await Assert.That(Ids.Format(bytes)).IsEqualTo(new Guid(bytes, bigEndian: true).ToString("D"));
        }
        byte[] known = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10];
        await Assert.That(Ids.Format(known)).IsEqualTo("01234567-89ab-cdef-fedc-ba9876543210");
    }
}
