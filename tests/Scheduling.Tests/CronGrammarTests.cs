// The cron grammar table (decisions D12, rest.md §7.1): every accepted form with its next occurrence
// from a fixed instant, every rejected form, and random input that must never throw.
using System.Globalization;
using HoodyCurl.Kernel.Errors;

namespace HoodyCurl.Scheduling.Tests;

public class CronGrammarTests
{
    /// <summary>Thursday 2026-01-15 10:30:00 UTC.</summary>
    private static readonly DateTimeOffset From = new(2026, 1, 15, 10, 30, 0, TimeSpan.Zero);

    [Test]
    [Arguments("0 * * * * *", "2026-01-15T10:31:00Z")]          // every minute
    [Arguments("0 0 * * * *", "2026-01-15T11:00:00Z")]          // hourly
    [Arguments("0 0 9 * * MON-FRI", "2026-01-16T09:00:00Z")]    // named weekday range
    [Arguments("0 0 9 * * 1-5", "2026-01-16T09:00:00Z")]        // numeric weekday range
    [Arguments("0 0 0 * * *", "2026-01-16T00:00:00Z")]          // midnight
    [Arguments("0 0 12 1 * *", "2026-02-01T12:00:00Z")]         // first of the month at noon
    [Arguments("0 */15 * * * *", "2026-01-15T10:45:00Z")]       // step in minutes
    [Arguments("*/1 * * * * *", "2026-01-15T10:30:01Z")]        // every second
    [Arguments("*/5 * * * * *", "2026-01-15T10:30:05Z")]        // step in seconds
    [Arguments("* * * * * *", "2026-01-15T10:30:01Z")]          // every second, plain
    [Arguments("30 15 10 * * *", "2026-01-16T10:15:30Z")]       // already passed today
    [Arguments("0 0 8-10 * * *", "2026-01-16T08:00:00Z")]       // hour range
    [Arguments("0 0,30 * * * *", "2026-01-15T11:00:00Z")]       // list; the start instant itself is excluded
    [Arguments("0 10-40/10 * * * *", "2026-01-15T10:40:00Z")]   // range with step
    [Arguments("0 0 0 * * SUN", "2026-01-18T00:00:00Z")]        // named weekday
    [Arguments("0 0 0 * * 7", "2026-01-18T00:00:00Z")]          // 7 is Sunday too
    [Arguments("0 0 0 * * MON,WED,FRI", "2026-01-16T00:00:00Z")] // weekday list
    [Arguments("0 0 0 1 JAN *", "2027-01-01T00:00:00Z")]        // named month
    [Arguments("0 0 0 1 1-6/2 *", "2026-03-01T00:00:00Z")]      // month range with step
    [Arguments("0 0 0 L * *", "2026-01-31T00:00:00Z")]          // last day of the month
    [Arguments("0 0 0 ? * MON", "2026-01-19T00:00:00Z")]        // ? for day-of-month
    [Arguments("0 0 0 29 2 *", "2028-02-29T00:00:00Z")]         // leap day: rare but real
    [Arguments("0 0 0 ? * MON#1", "2026-02-02T00:00:00Z")]      // first Monday of the month
    [Arguments("0 0 0 15W * *", "2026-02-16T00:00:00Z")]        // weekday nearest the 15th (15 Feb is a Sunday)
    [Arguments("0 0 0 * * 5L", "2026-01-30T00:00:00Z")]         // last Friday of the month
    [Arguments("@hourly", "2026-01-15T11:00:00Z")]
    [Arguments("@daily", "2026-01-16T00:00:00Z")]
    [Arguments("@weekly", "2026-01-18T00:00:00Z")]              // Sunday midnight
    [Arguments("@monthly", "2026-02-01T00:00:00Z")]
    [Arguments("@yearly", "2027-01-01T00:00:00Z")]
    [Arguments(" 0 0 * * * * ", "2026-01-15T11:00:00Z")]        // surrounding blanks are tolerated
    [Arguments("0\t0 * * *\t*", "2026-01-15T11:00:00Z")]          // tabs separate fields too
    public async Task Accepted_expressions_fire_when_expected(string cron, string expected)
    {
        await Assert.That(CronGrammar.TryParse(cron, out var expression)).IsTrue();
        var next = new Timetable(expression, TimeZoneInfo.Utc).Next(From);
        await Assert.That(next).IsEqualTo(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture));
    }

    [Test]
    [Arguments("*/15 * * * *")]             // classic 5-field crontab
    [Arguments("* * * * *")]
    [Arguments("0 9 * * MON-FRI")]
    [Arguments("0 0 0 1 1 * 2026")]         // 7th (year) field
    [Arguments("0 0 0 1 1 ? *")]
    [Arguments("@every 5s")]                // Go's interval syntax
    [Arguments("@every 1m")]
    [Arguments("@every_second")]            // Cronos' own macros are not part of the contract
    [Arguments("@every_minute")]
    [Arguments("@midnight")]
    [Arguments("@annually")]
    [Arguments("@reboot")]
    [Arguments("@")]
    [Arguments("@hourly 0")]
    [Arguments("")]
    [Arguments("   ")]
    [Arguments("garbage")]
    [Arguments("every second")]
    [Arguments("a b c d e f")]
    [Arguments("60 * * * * *")]             // out-of-range values
    [Arguments("* 60 * * * *")]
    [Arguments("* * 24 * * *")]
    [Arguments("* * * 32 * *")]
    [Arguments("* * * 0 * *")]
    [Arguments("* * * * 13 *")]
    [Arguments("* * * * * 8")]
    [Arguments("*/0 * * * * *")]            // zero step
    [Arguments("0 0 9 * * FOO")]            // unknown name
    [Arguments("0 0 0 30 2 *")]             // never occurs (30 February)
    [Arguments("0 0 0 31 4 *")]             // never occurs (31 April)
    [Arguments("0\n0 * * * * *")]           // control characters
    [Arguments("0 0 * * * *\u0000")]
    [Arguments("０ 0 * * * *")]             // full-width digit
    [Arguments("- * * * * *")]
    [Arguments(", * * * * *")]
    public async Task Rejected_expressions_are_invalid_cron(string cron)
    {
        await Assert.That(CronGrammar.TryParse(cron, out _)).IsFalse();
        var error = Assert.Throws<ApiErrorException>(() => CronGrammar.Parse(cron)).Error;
        await Assert.That(error.Status).IsEqualTo(400);
        await Assert.That(error.Code).IsEqualTo("INVALID_CRON");
        await Assert.That(error.Message).IsEqualTo("Invalid cron expression");
    }

    [Test]
    public async Task Null_and_overlong_text_are_invalid()
    {
        await Assert.That(CronGrammar.TryParse(null, out _)).IsFalse();
        var longText = "0 0 0 * * " + string.Join(',', Enumerable.Repeat("MON", 100));
        await Assert.That(CronGrammar.TryParse(longText, out _)).IsFalse();
    }

    [Test]
    public async Task Nicknames_are_the_six_field_expressions_they_stand_for()
    {
        foreach (var (nickname, expanded) in CronGrammar.Nicknames)
        {
            await Assert.That(CronGrammar.TryParse(nickname, out var a)).IsTrue();
            await Assert.That(CronGrammar.TryParse(expanded, out var b)).IsTrue();
            var from = From;
            for (var i = 0; i < 5; i++)
            {
                var x = new Timetable(a, TimeZoneInfo.Utc).Next(from);
                var y = new Timetable(b, TimeZoneInfo.Utc).Next(from);
                await Assert.That(x).IsEqualTo(y);
                from = x!.Value;
            }
        }
        await Assert.That(CronGrammar.Nicknames.Keys.Order().ToArray()).IsEquivalentTo(new[] { "@daily", "@hourly", "@monthly", "@weekly", "@yearly" });
    }

    [Test]
    public async Task Random_input_never_throws_anything_but_invalid_cron()
    {
        var random = new Random(20260115);
        const string alphabet = "0123456789*/,-?LW#@ \tMONTUEWEDFRISATSUNJANFEBDEC abcxyz\n\u00e9";
        var accepted = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var length = random.Next(0, 40);
            var chars = new char[length];
            for (var j = 0; j < length; j++) chars[j] = alphabet[random.Next(alphabet.Length)];
            var text = new string(chars);
            bool ok;
            try
            {
                ok = CronGrammar.TryParse(text, out _);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"TryParse threw on '{text}'", e);
            }
            if (ok) accepted++;
        }
        // Mutations of valid expressions: swap, drop or duplicate a character.
        string[] seeds = ["0 0 9 * * MON-FRI", "*/5 * * * * *", "0 0 0 L * *", "0 10-40/10 * * * *", "@hourly"];
        for (var i = 0; i < 20_000; i++)
        {
            var chars = seeds[random.Next(seeds.Length)].ToList();
            var at = random.Next(chars.Count);
            switch (random.Next(3))
            {
                case 0: chars[at] = alphabet[random.Next(alphabet.Length)]; break;
                case 1: chars.RemoveAt(at); break;
                default: chars.Insert(at, chars[at]); break;
            }
            var text = new string([.. chars]);
            if (CronGrammar.TryParse(text, out var expression))
            {
                accepted++;
                // Whatever parses must also plan: a next occurrence exists.
                await Assert.That(new Timetable(expression, TimeZoneInfo.Utc).Next(From)).IsNotNull();
            }
        }
        await Assert.That(accepted).IsGreaterThan(0);
    }
}
