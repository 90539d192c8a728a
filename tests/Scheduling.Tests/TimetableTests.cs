// Next-run computation in IANA time zones, across daylight-saving changes (Cronos' rules), and the
// time-zone id checks.
using System.Globalization;

namespace HoodyCurl.Scheduling.Tests;

public class TimetableTests
{
    private static Timetable Make(string cron, string zone)
    {
        var timetable = Timetable.TryCreate(cron, zone);
        if (timetable is null) throw new InvalidOperationException($"'{cron}' in {zone} did not parse");
        return timetable;
    }

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static List<DateTimeOffset> Series(Timetable t, string from, int count)
    {
        var list = new List<DateTimeOffset>();
        var at = At(from);
        for (var i = 0; i < count; i++)
        {
            at = t.Next(at)!.Value;
            list.Add(at);
        }
        return list;
    }

    [Test]
    public async Task Weekday_mornings_follow_the_zone_offset_in_winter_and_summer()
    {
        var t = Make("0 0 9 * * MON-FRI", "Europe/Berlin");
        await Assert.That(t.Next(At("2026-01-15T10:30:00Z"))).IsEqualTo(At("2026-01-16T08:00:00Z")); // CET, UTC+1
        await Assert.That(t.Next(At("2026-03-27T12:00:00Z"))).IsEqualTo(At("2026-03-30T07:00:00Z")); // CEST from 29 March
        await Assert.That(t.Next(At("2026-03-27T12:00:00Z"))!.Value.Offset).IsEqualTo(TimeSpan.Zero);  // always reported in UTC
    }

    [Test]
    public async Task A_wall_time_skipped_by_spring_forward_fires_at_the_end_of_the_gap()
    {
        // New York, Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
        var t = Make("0 30 2 * * *", "America/New_York");
        var series = Series(t, "2026-03-07T12:00:00Z", 3);
        await Assert.That(series[0]).IsEqualTo(At("2026-03-08T07:00:00Z")); // 03:00 EDT, the end of the gap
        await Assert.That(series[1]).IsEqualTo(At("2026-03-09T06:30:00Z")); // 02:30 EDT
        await Assert.That(series[2]).IsEqualTo(At("2026-03-10T06:30:00Z"));
    }

    [Test]
    public async Task A_wall_time_repeated_by_fall_back_fires_once()
    {
        // New York, Sunday 1 November 2026: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
        var t = Make("0 30 1 * * *", "America/New_York");
        var series = Series(t, "2026-11-01T00:00:00Z", 2);
        await Assert.That(series[0]).IsEqualTo(At("2026-11-01T05:30:00Z")); // 01:30 EDT
        await Assert.That(series[1]).IsEqualTo(At("2026-11-02T06:30:00Z")); // next day, 01:30 EST: no second firing
    }

    [Test]
    public async Task An_interval_expression_fires_through_both_copies_of_the_repeated_hour()
    {
        var t = Make("0 */30 * * * *", "America/New_York");
        var series = Series(t, "2026-11-01T04:50:00Z", 5);
        await Assert.That(series).IsEquivalentTo(new[]
        {
            At("2026-11-01T05:00:00Z"), // 01:00 EDT
            At("2026-11-01T05:30:00Z"), // 01:30 EDT
            At("2026-11-01T06:00:00Z"), // 01:00 EST
            At("2026-11-01T06:30:00Z"), // 01:30 EST
            At("2026-11-01T07:00:00Z"), // 02:00 EST
        });
    }

    [Test]
    public async Task Every_second_keeps_one_second_spacing_across_a_dst_change()
    {
        var t = Make("*/1 * * * * *", "Europe/Berlin");
        var series = Series(t, "2026-03-29T00:59:58Z", 4); // 01:59:58 CET → 03:00:00 CEST
        for (var i = 1; i < series.Count; i++)
            await Assert.That(series[i] - series[i - 1]).IsEqualTo(TimeSpan.FromSeconds(1));
    }

    [Test]
    public async Task Utc_is_the_default_and_daily_runs_at_midnight_utc()
    {
        var t = Make("@daily", ScheduleTimeZones.Default);
        await Assert.That(t.Next(At("2026-06-01T23:59:59Z"))).IsEqualTo(At("2026-06-02T00:00:00Z"));
    }

    [Test]
    [Arguments("UTC")]
    [Arguments("Etc/UTC")]
    [Arguments("Europe/Berlin")]
    [Arguments("America/New_York")]
    [Arguments("America/Argentina/Buenos_Aires")]
    [Arguments("Asia/Kolkata")]
    [Arguments("Etc/GMT+5")]
    [Arguments("Australia/Lord_Howe")]
    public async Task Iana_ids_are_found(string id)
    {
        await Assert.That(ScheduleTimeZones.TryFind(id, out var zone)).IsTrue();
        await Assert.That(zone).IsNotNull();
    }

    [Test]
    public async Task Lookups_ignore_case_and_report_the_zone_spelling()
    {
        await Assert.That(ScheduleTimeZones.TryFind("europe/berlin", out var zone)).IsTrue();
        await Assert.That(zone!.Id).IsEqualTo("Europe/Berlin");
    }

    [Test]
    [Arguments("")]
    [Arguments("Mars/Olympus_Mons")]
    [Arguments("../../etc/passwd")]
    [Arguments("/etc/passwd")]
    [Arguments("Europe//Berlin")]
    [Arguments("Europe/Berlin/")]
    [Arguments("Europe/./Berlin")]
    [Arguments("Eastern Standard Time")]
    [Arguments("Europe/Berlin\n")]
    [Arguments("Local")]
    public async Task Other_ids_are_refused(string id)
    {
        await Assert.That(ScheduleTimeZones.TryFind(id, out _)).IsFalse();
        await Assert.That(Timetable.TryCreate("0 * * * * *", id)).IsNull();
    }

    [Test]
    public async Task Overlong_ids_are_refused()
    {
        await Assert.That(ScheduleTimeZones.TryFind(new string('A', ScheduleTimeZones.MaxLength + 1), out _)).IsFalse();
        await Assert.That(ScheduleTimeZones.TryFind(null, out _)).IsFalse();
    }
}

public class ShortestGapTests
{
    [Test]
    [Arguments("* * * * * *", 1)]
    [Arguments("*/5 * * * * *", 5)]
    [Arguments("0,1 * * * * *", 1)]
    [Arguments("0 * * * * *", 60)]
    [Arguments("@hourly", 3600)]
    public async Task The_shortest_gap_between_firings(string cron, int seconds)
    {
        var timetable = new HoodyCurl.Scheduling.Timetable(HoodyCurl.Scheduling.CronGrammar.Parse(cron), TimeZoneInfo.Utc);
        var gap = HoodyCurl.Scheduling.ScheduleService.ShortestGap(timetable, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await Assert.That(gap).IsEqualTo(TimeSpan.FromSeconds(seconds));
    }
}
