// The session store over a real SQLite file in a temp folder: leases, persistence across a restart,
// tombstones, serialisation of concurrent users and the list order.
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Sessions.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace HoodyCurl.Sessions.Tests;

public class SessionStoreTests
{

    [Test]
    public async Task A_new_session_beyond_max_sessions_is_refused_and_existing_ones_keep_working()
    {
        using var dir = new TempDir();
        var store = Open(dir.Path, new ManualTime(Start), new SessionsOptions { MaxSessions = 2 });
        (await store.AcquireAsync("a", CancellationToken.None)).Dispose();
        (await store.AcquireAsync("b", CancellationToken.None)).Dispose();
        var refused = await Assert.ThrowsAsync<ApiErrorException>(() => store.AcquireAsync("c", CancellationToken.None));
        await Assert.That(refused!.Error.Status).IsEqualTo(503);
        await Assert.That(refused.Error.Code).IsEqualTo(ErrorCodes.TooManySessions);
        await Assert.That(refused.Error.Message).Contains("--max-sessions");
        (await store.AcquireAsync("a", CancellationToken.None)).Dispose(); // existing: still served
        await Assert.That(store.Get("c", out _)).IsNull();
        await Assert.That(store.GateCount).IsEqualTo(0);
        store.Delete("b");
        (await store.AcquireAsync("c", CancellationToken.None)).Dispose(); // room again after a delete
        await Assert.That(store.Get("c", out _)).IsNotNull();
    }

    [Test]
    public async Task The_idle_sweep_removes_only_sessions_unused_for_longer_than_the_limit_and_not_held_ones()
    {
        using var dir = new TempDir();
        var time = new ManualTime(Start);
        var store = Open(dir.Path, time, new SessionsOptions { IdleDays = 2 });
        (await store.AcquireAsync("old", CancellationToken.None)).Dispose();
        (await store.AcquireAsync("held", CancellationToken.None)).Dispose();
        time.Advance(TimeSpan.FromDays(1));
        (await store.AcquireAsync("recent", CancellationToken.None)).Dispose();
        await Assert.That(store.SweepIdle()).IsEqualTo(0); // nothing is two days idle yet
        time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        using (await store.AcquireAsync("held", CancellationToken.None))
            await Assert.That(store.SweepIdle()).IsEqualTo(1);
        await Assert.That(store.Get("old", out var tombstoned)).IsNull();
        await Assert.That(tombstoned).IsFalse(); // swept, not deleted by a caller: the id can come back
        await Assert.That(store.Get("held", out _)).IsNotNull();
        await Assert.That(store.Get("recent", out _)).IsNotNull();
        time.Advance(TimeSpan.FromDays(2));
        await Assert.That(store.SweepIdle()).IsEqualTo(2);
    }
    private static readonly DateTimeOffset Start = new(2026, 1, 15, 10, 0, 0, TimeSpan.Zero);

    private static SessionStore Open(string dir, ManualTime time, SessionsOptions? options = null) =>
        new(new Database(dir), options ?? new SessionsOptions(), time, NullLogger.Instance);

    private static string Line(string name, string value, string domain = "example.com", long expires = 0) =>
        $"{domain}\tFALSE\t/\tFALSE\t{expires}\t{name}\t{value}";

    [Test]
    public async Task Acquire_creates_the_session_with_an_empty_jar()
    {
        using var dir = new TempDir();
        var store = Open(dir.Path, new ManualTime(Start));
        using (var lease = await store.AcquireAsync("user-1", CancellationToken.None))
        {
            await Assert.That(lease.SessionId).IsEqualTo("user-1");
            await Assert.That(lease.Cookies.Count).IsEqualTo(0);
        }
        var session = store.Get("user-1", out _)!;
        await Assert.That(session.CreatedAt).IsEqualTo(Start);
        await Assert.That(session.LastUsed).IsEqualTo(Start);
        await Assert.That(store.GateCount).IsEqualTo(0);
    }

    [Test]
    public async Task Persisted_cookies_are_loaded_by_the_next_lease_and_survive_a_restart()
    {
        using var dir = new TempDir();
        var time = new ManualTime(Start);
        var store = Open(dir.Path, time);
        using (var lease = await store.AcquireAsync("s", CancellationToken.None))
            lease.Persist([Line("sid", "abc"), Line("theme", "dark")]);

        var restarted = Open(dir.Path, time);
        using var again = await restarted.AcquireAsync("s", CancellationToken.None);
        await Assert.That(again.Cookies).IsEquivalentTo([Line("sid", "abc"), Line("theme", "dark")]);
    }

    [Test]
    public async Task Last_used_moves_only_when_the_jar_changes()
    {
        using var dir = new TempDir();
        var time = new ManualTime(Start);
        var store = Open(dir.Path, time);
        using (var lease = await store.AcquireAsync("s", CancellationToken.None))
        {
            time.Advance(TimeSpan.FromMinutes(1));
            lease.Persist([Line("a", "1")]);
        }
        await Assert.That(store.Get("s", out _)!.LastUsed).IsEqualTo(Start.AddMinutes(1));
        using (var lease = await store.AcquireAsync("s", CancellationToken.None))
        {
            time.Advance(TimeSpan.FromMinutes(1));
            lease.Persist([Line("a", "1")]); // the same jar: nothing to store
        }
        await Assert.That(store.Get("s", out _)!.LastUsed).IsEqualTo(Start.AddMinutes(1));
    }

    [Test]
    public async Task Expired_cookies_are_dropped_on_store_and_on_read()
    {
        using var dir = new TempDir();
        var time = new ManualTime(Start);
        var store = Open(dir.Path, time);
        var soon = Start.ToUnixTimeSeconds() + 60;
        using (var lease = await store.AcquireAsync("s", CancellationToken.None))
            lease.Persist([Line("short", "1", expires: soon), Line("gone", "1", expires: 1), Line("session", "1")]);
        await Assert.That(store.Get("s", out _)!.Cookies.Select(c => c.Name).ToArray()).IsEquivalentTo(["short", "session"]);
        time.Advance(TimeSpan.FromMinutes(2));
        await Assert.That(store.Get("s", out _)!.Cookies.Select(c => c.Name).ToArray()).IsEquivalentTo(["session"]);
        using var next = await store.AcquireAsync("s", CancellationToken.None);
        await Assert.That(next.Cookies.Count).IsEqualTo(1);
    }

    [Test]
    public async Task Delete_tombstones_the_id_until_the_tombstone_expires()
    {
        using var dir = new TempDir();
        var time = new ManualTime(Start);
        var store = Open(dir.Path, time, new SessionsOptions { TombstoneSecs = 60 });
        using (var lease = await store.AcquireAsync("gone", CancellationToken.None)) lease.Persist([Line("a", "1")]);

        await Assert.That(store.Delete("gone")).IsEqualTo(DeleteOutcome.Deleted);
        await Assert.That(store.Delete("gone")).IsEqualTo(DeleteOutcome.Tombstoned);
        await Assert.That(store.Get("gone", out var tombstoned)).IsNull();
        await Assert.That(tombstoned).IsTrue();
        var refused = store.CheckUsable("gone")!;
        await Assert.That(refused.Status).IsEqualTo(404);
        await Assert.That(refused.Code).IsEqualTo("SESSION_NOT_FOUND");
        await Assert.That(refused.Message).IsEqualTo("Session not found: gone (tombstoned)");
        var thrown = await Assert.ThrowsAsync<ApiErrorException>(() => store.AcquireAsync("gone", CancellationToken.None));
        await Assert.That(thrown!.Error.Message).IsEqualTo("Session not found: gone (tombstoned)");

        time.Advance(TimeSpan.FromSeconds(61));
        await Assert.That(store.CheckUsable("gone")).IsNull();
        using var reborn = await store.AcquireAsync("gone", CancellationToken.None);
        await Assert.That(reborn.Cookies.Count).IsEqualTo(0); // a new, empty jar
    }

    [Test]
    public async Task Tombstones_survive_a_restart_and_zero_seconds_disables_them()
    {
        using var dir = new TempDir();
        var time = new ManualTime(Start);
        var store = Open(dir.Path, time);
        (await store.AcquireAsync("a", CancellationToken.None)).Dispose();
        store.Delete("a");
        await Assert.That(Open(dir.Path, time).CheckUsable("a")).IsNotNull();

        var noTombstones = Open(dir.Path, time, new SessionsOptions { TombstoneSecs = 0 });
        (await noTombstones.AcquireAsync("b", CancellationToken.None)).Dispose();
        noTombstones.Delete("b");
        await Assert.That(noTombstones.CheckUsable("b")).IsNull();
    }

    [Test]
    public async Task Unknown_ids_are_not_found_and_bad_ids_are_refused()
    {
        using var dir = new TempDir();
        var store = Open(dir.Path, new ManualTime(Start));
        await Assert.That(store.Delete("never")).IsEqualTo(DeleteOutcome.NotFound);
        await Assert.That(store.Get("never", out var tombstoned)).IsNull();
        await Assert.That(tombstoned).IsFalse();
        foreach (var bad in new[] { "", "a b", "a/b", "x%2Fy", new string('a', 129), "ü" })
        {
            await Assert.That(SessionStore.IsValidId(bad)).IsFalse();
            await Assert.That(store.CheckUsable(bad)!.Status).IsEqualTo(400);
        }
        await Assert.That(SessionStore.IsValidId("user@example.com:a-b_c.d")).IsTrue();
        await Assert.That(SessionStore.IsValidId(new string('a', 128))).IsTrue();
    }

    [Test]
    public async Task Concurrent_leases_are_serialised_so_no_cookie_is_lost()
    {
        using var dir = new TempDir();
        var store = Open(dir.Path, new ManualTime(Start));
        var holders = 0;
        var maxHolders = 0;
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            using var lease = await store.AcquireAsync("shared", CancellationToken.None);
            var now = Interlocked.Increment(ref holders);
            InterlockedMax(ref maxHolders, now);
            await Task.Delay(2);
            lease.Persist([.. lease.Cookies, Line($"c{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
            Interlocked.Decrement(ref holders);
        })));
        await Assert.That(maxHolders).IsEqualTo(1);
        await Assert.That(store.Get("shared", out _)!.Cookies.Count).IsEqualTo(20);
        await Assert.That(store.GateCount).IsEqualTo(0);
    }

    [Test]
    public async Task Waiting_for_a_lease_is_cancellable_and_leaks_nothing()
    {
        using var dir = new TempDir();
        var store = Open(dir.Path, new ManualTime(Start));
        var held = await store.AcquireAsync("busy", CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAsync<OperationCanceledException>(() => store.AcquireAsync("busy", cts.Token));
        held.Dispose();
        held.Dispose(); // idempotent
        await Assert.That(store.GateCount).IsEqualTo(0);
        using var next = await store.AcquireAsync("busy", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        await Assert.That(next.SessionId).IsEqualTo("busy");
    }

    [Test]
    public async Task A_session_deleted_during_a_transfer_stays_deleted()
    {
        using var dir = new TempDir();
        var store = Open(dir.Path, new ManualTime(Start));
        using (var lease = await store.AcquireAsync("s", CancellationToken.None))
        {
            await Assert.That(store.Delete("s")).IsEqualTo(DeleteOutcome.Deleted);
            lease.Persist([Line("late", "1")]);
        }
        await Assert.That(store.Get("s", out var tombstoned)).IsNull();
        await Assert.That(tombstoned).IsTrue();
    }

    [Test]
    public async Task The_jar_is_capped_at_max_cookies()
    {
        using var dir = new TempDir();
        var store = Open(dir.Path, new ManualTime(Start), new SessionsOptions { MaxCookies = 5 });
        using (var lease = await store.AcquireAsync("s", CancellationToken.None))
            lease.Persist([.. Enumerable.Range(0, 12).Select(i => Line($"c{i}", "v"))]);
        await Assert.That(store.Get("s", out _)!.Cookies.Count).IsEqualTo(5);
    }

    [Test]
    public async Task List_pages_in_creation_order()
    {
        using var dir = new TempDir();
        var time = new ManualTime(Start);
        var store = Open(dir.Path, time);
        foreach (var id in new[] { "zeta", "alpha", "mid" })
        {
            time.Advance(TimeSpan.FromSeconds(1));
            (await store.AcquireAsync(id, CancellationToken.None)).Dispose();
        }
        var all = store.List(1, null);
        await Assert.That(all.Total).IsEqualTo(3L);
        await Assert.That(all.Items.Select(s => s.Id).ToArray()).IsEquivalentTo(["zeta", "alpha", "mid"], TUnit.Assertions.Enums.CollectionOrdering.Matching);
        var second = store.List(2, 2);
        await Assert.That(second.Items.Select(s => s.Id).ToArray()).IsEquivalentTo(["mid"]);
        await Assert.That(store.List(5, 2).Items.Count).IsEqualTo(0);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
