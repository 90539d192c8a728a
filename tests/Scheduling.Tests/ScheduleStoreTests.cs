// The schedule store over a real SQLite file in a temp folder: round trip with secrets kept, newest
// first paging, toggles, deletes, the tick bookkeeping, and persistence across a reopen.
using System.Text;
using System.Text.Json;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Requests.Model;
using HoodyCurl.Scheduling.Endpoints;
using HoodyCurl.Scheduling.Tests.Support;

namespace HoodyCurl.Scheduling.Tests;

public class ScheduleStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 15, 10, 30, 0, 123, TimeSpan.Zero);

    private static ScheduleRecord Sample(string? id = null, bool enabled = true, DateTimeOffset? createdAt = null) => new()
    {
        Id = id ?? Kernel.Ids.New(),
        Name = "prod-health",
        Cron = "0 */15 * * * *",
        TimeZone = "Europe/Berlin",
        Enabled = enabled,
        SkipIfRunning = true,
        CreatedAt = createdAt ?? T0,
        NextRun = enabled ? T0.AddMinutes(15) : null,
        Request = new CurlRequest
        {
            Url = "https://prod.example.com/health",
            JobName = "prod-health",
            BearerToken = "t0ken",
            AuthUser = "me",
            AuthPassword = "pa55",
            Headers = [new HeaderEntry("Authorization", "Basic abc"), new HeaderEntry("X-Trace", "1")],
        },
    };

    internal static string Render(ScheduleRecord s, bool withScheduleId = false)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) ScheduleJson.Write(w, s, withScheduleId);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [Test]
    public async Task A_schedule_round_trips_with_its_secrets_and_the_api_shape_redacts_them()
    {
        using var dir = new TempDir();
        var store = new ScheduleStore(new Database(dir.Path));
        var schedule = Sample();
        store.Insert(schedule);
        var read = store.Get(schedule.Id)!;
        await Assert.That(read.Cron).IsEqualTo("0 */15 * * * *");
        await Assert.That(read.TimeZone).IsEqualTo("Europe/Berlin");
        await Assert.That(read.SkipIfRunning).IsTrue();
        await Assert.That(read.CreatedAt).IsEqualTo(T0);
        await Assert.That(read.NextRun).IsEqualTo(T0.AddMinutes(15));
        await Assert.That(read.LastRun).IsNull();
        await Assert.That(read.Request.BearerToken).IsEqualTo("t0ken");
        await Assert.That(read.Request.AuthPassword).IsEqualTo("pa55");
        await Assert.That(read.Request.Headers![0].Value).IsEqualTo("Basic abc");

        var json = Render(read, withScheduleId: true);
        await Assert.That(json).StartsWith($"{{\"schedule_id\":\"{schedule.Id}\",\"id\":\"{schedule.Id}\",\"name\":\"prod-health\"");
        await Assert.That(json).Contains("\"created_at\":\"2026-01-15T10:30:00.123Z\"");
        await Assert.That(json).Contains("\"last_run\":null,\"last_job_id\":null,\"run_count\":0,\"skipped_count\":0");
        await Assert.That(json).DoesNotContain("t0ken");
        await Assert.That(json).DoesNotContain("pa55");
        await Assert.That(json).DoesNotContain("Basic abc");
        await Assert.That(json).Contains("\"bearer_token\":\"***\"");
        await Assert.That(Render(read)).DoesNotContain("schedule_id");

        // The database file is owner-only: stored secrets are not world-readable (decisions D9).
        await Assert.That(File.GetUnixFileMode(Path.Combine(dir.Path, Database.FileName)))
            .IsEqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Test]
    public async Task Lists_are_newest_first_and_paged()
    {
        using var dir = new TempDir();
        var store = new ScheduleStore(new Database(dir.Path));
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var s = Sample(createdAt: T0.AddSeconds(i));
            store.Insert(s);
            ids.Add(s.Id);
        }
        var all = store.List(1, null);
        await Assert.That(all.Total).IsEqualTo(5);
        await Assert.That(all.Items.Select(s => s.Id).ToArray()).IsEquivalentTo(ids.AsEnumerable().Reverse().ToArray());
        var page2 = store.List(2, 2);
        await Assert.That(page2.Items.Select(s => s.Id).ToArray()).IsEquivalentTo(new[] { ids[2], ids[1] });
        var past = store.List(9, 2);
        await Assert.That(past.Items.Count).IsEqualTo(0);
        await Assert.That(past.Total).IsEqualTo(5);
    }

    [Test]
    public async Task Toggle_and_delete_change_one_row_and_report_unknown_ids()
    {
        using var dir = new TempDir();
        var store = new ScheduleStore(new Database(dir.Path));
        var s = Sample();
        store.Insert(s);
        await Assert.That(store.SetEnabled(s.Id, false, null)).IsTrue();
        var off = store.Get(s.Id)!;
        await Assert.That(off.Enabled).IsFalse();
        await Assert.That(off.NextRun).IsNull();
        await Assert.That(store.SetEnabled(Kernel.Ids.New(), true, T0)).IsFalse();
        await Assert.That(store.Delete(s.Id)).IsTrue();
        await Assert.That(store.Delete(s.Id)).IsFalse();
        await Assert.That(store.Get(s.Id)).IsNull();
    }

    [Test]
    public async Task A_tick_is_recorded_in_one_go_and_respects_disabled_and_deleted_schedules()
    {
        using var dir = new TempDir();
        var store = new ScheduleStore(new Database(dir.Path));
        var a = Sample();
        var b = Sample();
        var gone = Sample();
        store.Insert(a);
        store.Insert(b);
        store.Insert(gone);
        store.SetEnabled(b.Id, false, null);
        store.Delete(gone.Id);
        var fired = T0.AddMinutes(15).AddMilliseconds(3);
        var next = T0.AddMinutes(30);
        store.RecordFirings(
        [
            new FiringRecord(a.Id, fired, "job-1", true, next),
            new FiringRecord(b.Id, fired, "job-2", true, next),      // disabled meanwhile: next_run stays null
            new FiringRecord(gone.Id, fired, "job-3", true, next),   // deleted meanwhile: nothing to update
        ]);
        store.RecordFirings([new FiringRecord(a.Id, fired.AddSeconds(1), null, false, null)]); // a skip
        var ra = store.Get(a.Id)!;
        await Assert.That(ra.RunCount).IsEqualTo(1);
        await Assert.That(ra.SkippedCount).IsEqualTo(1);
        await Assert.That(ra.LastJobId).IsEqualTo("job-1");
        await Assert.That(ra.LastRun).IsEqualTo(fired);   // a skip does not move last_run
        await Assert.That(ra.NextRun).IsEqualTo(next);    // PlanNext=false leaves next_run alone
        var rb = store.Get(b.Id)!;
        await Assert.That(rb.NextRun).IsNull();
        await Assert.That(rb.RunCount).IsEqualTo(1);
        await Assert.That(store.Get(gone.Id)).IsNull();
    }

    [Test]
    public async Task Schedules_survive_a_reopen_of_the_database()
    {
        using var dir = new TempDir();
        var first = new ScheduleStore(new Database(dir.Path));
        var on = Sample();
        var off = Sample(enabled: false);
        first.Insert(on);
        first.Insert(off);
        var second = new ScheduleStore(new Database(dir.Path)); // migrations run again: a no-op
        var all = second.All();
        await Assert.That(all.Select(s => s.Id).ToArray()).IsEquivalentTo(new[] { on.Id, off.Id });
        await Assert.That(all[0].Enabled).IsTrue();
        await Assert.That(all[1].Enabled).IsFalse();
        await Assert.That(new Database(dir.Path).SchemaVersion(ScheduleStore.Module)).IsEqualTo(ScheduleStore.Migrations.Count);
    }
}
