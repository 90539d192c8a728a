// The job store over a real SQLite file: records round-trip with every field, the status
// compare-and-sets, pagination and filters, events in the same transaction, retention.
using System.Text.Json;
using HoodyCurl.Jobs.Endpoints;
using HoodyCurl.Jobs.Tests.Support;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Jobs.Tests;

public class JobStoreTests
{
    private static JobRecord NewJob(JobsFixture f, string? name = null, string? schedule = null, string method = "GET", CurlRequest? request = null)
    {
        request ??= new CurlRequest { Url = "http://upstream.test/item", Method = method, JobName = name };
        return new JobRecord
        {
            Id = HoodyCurl.Kernel.Ids.New(),
            Name = name,
            Status = JobStatus.Pending,
            Method = request.EffectiveMethod,
            Url = request.Url,
            CreatedAt = f.Store.Now,
            Request = request,
            ScheduleId = schedule,
            SessionId = request.SessionId,
        };
    }

    [Test]
    public async Task Insert_and_get_round_trip_keeps_secrets_in_storage_and_redacts_the_echo()
    {
        await using var f = new JobsFixture();
        var request = new CurlRequest
        {
            Url = "https://user:pw@upstream.test/a?b=1",
            Method = "POST",
            Headers = [new HeaderEntry("Authorization", "Bearer s3cret"), new HeaderEntry("X-Api-Key", "k"), new HeaderEntry("Accept", "text/plain")],
            BearerToken = "tok",
            AuthUser = "me",
            AuthPassword = "pw",
            Cookie = "a=1",
            Json = "{\"x\":[1,2]}",
            RetryCount = 2,
            Timeout = 30,
            JobName = "nightly",
            SessionId = "sess-1",
        };
        var job = NewJob(f, name: "nightly", request: request) with { OriginalJobId = "orig" };
        f.Store.Insert(job);

        var back = f.Store.Get(job.Id)!;
        await Assert.That(back.Request.BearerToken).IsEqualTo("tok");
        await Assert.That(back.Request.AuthPassword).IsEqualTo("pw");
        await Assert.That(back.Request.Headers![0].Value).IsEqualTo("Bearer s3cret");
        await Assert.That(back.Request.Json).IsEqualTo("{\"x\":[1,2]}");
        await Assert.That(back.Status).IsEqualTo(JobStatus.Pending);
        await Assert.That(back.Name).IsEqualTo("nightly");
        await Assert.That(back.SessionId).IsEqualTo("sess-1");
        await Assert.That(back.OriginalJobId).IsEqualTo("orig");
        await Assert.That(back.Method).IsEqualTo("POST");

        using var doc = JsonDocument.Parse(Render(back));
        var root = doc.RootElement;
        foreach (var field in new[] { "id", "name", "session_id", "status", "created_at", "started_at", "completed_at", "error",
                     "retry_count", "retry_attempts", "request", "response", "progress", "cancel_requested", "original_job_id", "schedule_id" })
            await Assert.That(root.TryGetProperty(field, out _)).IsTrue().Because(field);
        var echoed = root.GetProperty("request");
        await Assert.That(echoed.GetProperty("bearer_token").GetString()).IsEqualTo("***");
        await Assert.That(echoed.GetProperty("auth_password").GetString()).IsEqualTo("***");
        await Assert.That(echoed.GetProperty("cookie").GetString()).IsEqualTo("***");
        await Assert.That(echoed.GetProperty("headers").GetProperty("Authorization").GetString()).IsEqualTo("***");
        await Assert.That(echoed.GetProperty("headers").GetProperty("X-Api-Key").GetString()).IsEqualTo("***");
        await Assert.That(echoed.GetProperty("headers").GetProperty("Accept").GetString()).IsEqualTo("text/plain");
        await Assert.That(echoed.GetProperty("url").GetString()).IsEqualTo("https://user:***@upstream.test/a?b=1");
        await Assert.That(echoed.GetProperty("json").GetProperty("x")[1].GetInt32()).IsEqualTo(2);
        await Assert.That(root.GetProperty("retry_count").GetInt32()).IsEqualTo(0);
        await Assert.That(root.GetProperty("response").ValueKind).IsEqualTo(JsonValueKind.Null);
        await Assert.That(Render(back)).DoesNotContain("s3cret");
    }

    [Test]
    public async Task Status_changes_are_compare_and_set_and_append_events()
    {
        await using var f = new JobsFixture();
        var a = NewJob(f, name: "a");
        f.Store.Insert(a);
        var started = f.Store.TryStart(a.Id);
        await Assert.That(started!.Status).IsEqualTo(JobStatus.Running);
        await Assert.That(started.StartedAt).IsNotNull();
        await Assert.That(f.Store.TryStart(a.Id)).IsNull();
        await Assert.That(f.Store.TryCancelPending(a.Id)).IsFalse();
        await Assert.That(f.Store.SetProgress(a.Id, 0.5)).IsTrue();
        await Assert.That(f.Store.MarkCancelRequested(a.Id)).IsTrue();
        await Assert.That(f.Store.TryFinish(a.Id, JobStatus.Failed, "boom", null, 3)).IsTrue();
        await Assert.That(f.Store.TryFinish(a.Id, JobStatus.Completed, null, null, 1)).IsFalse();
        await Assert.That(f.Store.SetProgress(a.Id, 0.9)).IsFalse();

        var done = f.Store.Get(a.Id)!;
        await Assert.That(done.Status).IsEqualTo(JobStatus.Failed);
        await Assert.That(done.Error).IsEqualTo("boom");
        await Assert.That(done.RetryAttempts).IsEqualTo(3);
        await Assert.That(done.CancelRequested).IsTrue();
        await Assert.That(done.CompletedAt).IsNotNull();

        var b = NewJob(f);
        f.Store.Insert(b);
        await Assert.That(f.Store.TryCancelPending(b.Id)).IsTrue();
        await Assert.That(f.Store.TryStart(b.Id)).IsNull();
        await Assert.That(f.Store.Get(b.Id)!.Error).IsEqualTo("Cancelled");

        var events = f.Events.ReadAfter(0, a.Id);
        await Assert.That(string.Join(",", events.Select(e => e.Type))).IsEqualTo("jobstarted,jobprogress,jobcompleted");
        await Assert.That(events[0].Id < events[1].Id && events[1].Id < events[2].Id).IsTrue();
        await Assert.That(events[0].PayloadJson).IsEqualTo($"{{\"job_id\":\"{a.Id}\",\"name\":\"a\"}}");
        await Assert.That(events[1].PayloadJson).IsEqualTo($"{{\"job_id\":\"{a.Id}\",\"progress\":0.5}}");
        await Assert.That(events[2].PayloadJson).IsEqualTo($"{{\"job_id\":\"{a.Id}\",\"status\":\"failed\"}}");
        await Assert.That(events[2].Level).IsEqualTo("error");
        await Assert.That(f.Events.ReadAfter(events[1].Id, a.Id).Single().Type).IsEqualTo("jobcompleted");
        await Assert.That(f.Events.ReadAfter(0, b.Id).Single().PayloadJson).Contains("\"status\":\"cancelled\"");
    }

    [Test]
    public async Task List_is_newest_first_with_pages_totals_and_filters()
    {
        await using var f = new JobsFixture();
        var ids = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            var job = NewJob(f, name: i % 5 == 0 ? "fifth" : null, schedule: i < 10 ? "sched-1" : null);
            f.Store.Insert(job);
            ids.Add(job.Id);
        }
        f.Store.TryCancelPending(ids[3]);
        f.Store.TryCancelPending(ids[4]);
        ids.Reverse(); // newest first

        var all = f.Store.List(new JobQuery());
        await Assert.That(all.Total).IsEqualTo(25);
        await Assert.That(string.Join(",", all.Items.Select(i => i.Id))).IsEqualTo(string.Join(",", ids));

        var page2 = f.Store.List(new JobQuery { Page = 2, Limit = 10 });
        await Assert.That(string.Join(",", page2.Items.Select(i => i.Id))).IsEqualTo(string.Join(",", ids.Skip(10).Take(10)));
        var page3 = f.Store.List(new JobQuery { Page = 3, Limit = 10 });
        await Assert.That(page3.Items.Count).IsEqualTo(5);
        var past = f.Store.List(new JobQuery { Page = 9, Limit = 10 });
        await Assert.That(past.Items.Count).IsEqualTo(0);
        await Assert.That(past.Total).IsEqualTo(25);

        await Assert.That(f.Store.List(new JobQuery { Name = "fifth" }).Total).IsEqualTo(5);
        await Assert.That(f.Store.List(new JobQuery { ScheduleId = "sched-1" }).Total).IsEqualTo(10);
        await Assert.That(f.Store.List(new JobQuery { Statuses = ["cancelled"] }).Total).IsEqualTo(2);
        await Assert.That(f.Store.List(new JobQuery { Statuses = ["cancelled", "pending"] }).Total).IsEqualTo(25);
        var combined = f.Store.List(new JobQuery { Statuses = ["pending"], ScheduleId = "sched-1", Limit = 3 });
        await Assert.That(combined.Total).IsEqualTo(8);
        await Assert.That(combined.Items.Count).IsEqualTo(3);
    }

    [Test]
    public async Task Page_tail_reports_has_more_and_meta()
    {
        static string Tail(long total, int page, int? limit, int returned)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                HoodyCurl.Kernel.Http.Paging.WriteTail(w, total, page, limit, returned);
                w.WriteEndObject();
            }
            return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
        }
        await Assert.That(Tail(25, 1, 10, 10)).IsEqualTo("{\"meta\":{\"total\":25,\"page\":1,\"limit\":10},\"has_more\":true}");
        await Assert.That(Tail(25, 3, 10, 5)).IsEqualTo("{\"meta\":{\"total\":25,\"page\":3,\"limit\":10},\"has_more\":false}");
        await Assert.That(Tail(25, 1, null, 25)).IsEqualTo("{\"meta\":{\"total\":25,\"page\":1,\"limit\":25},\"has_more\":false}");
    }

    [Test]
    public async Task Retention_deletes_only_old_finished_jobs_with_their_events()
    {
        await using var f = new JobsFixture();
        var old = NewJob(f);
        var running = NewJob(f);
        f.Store.Insert(old);
        f.Store.Insert(running);
        f.Store.TryCancelPending(old.Id);
        f.Store.TryStart(running.Id);
        await Assert.That(f.Store.DeleteFinishedBefore(f.Store.Now.AddMinutes(-1)).Count).IsEqualTo(0);
        var deleted = f.Store.DeleteFinishedBefore(f.Store.Now.AddMinutes(1));
        await Assert.That(deleted.Single()).IsEqualTo(old.Id);
        await Assert.That(f.Store.Get(old.Id)).IsNull();
        await Assert.That(f.Events.ReadAfter(0, old.Id).Count).IsEqualTo(0);
        await Assert.That(f.Store.Get(running.Id)).IsNotNull();
    }

    [Test]
    public async Task Concurrent_submits_cancels_and_finishes_keep_the_store_sound()
    {
        await using var f = new JobsFixture();
        var jobs = Enumerable.Range(0, 200).Select(_ => NewJob(f)).ToList();
        await Task.WhenAll(jobs.Select(j => Task.Run(() =>
        {
            f.Store.Insert(j);
            if (j.Id[^1] % 2 == 0) f.Store.TryCancelPending(j.Id);
            else if (f.Store.TryStart(j.Id) is not null)
            {
                f.Store.SetProgress(j.Id, 0.5);
                f.Store.TryFinish(j.Id, JobStatus.Completed, null, null, 1);
            }
        })));
        var page = f.Store.List(new JobQuery());
        await Assert.That(page.Total).IsEqualTo(200);
        await Assert.That(page.Items.All(i => JobStatus.IsTerminal(i.Status))).IsTrue();
        await Assert.That(f.Database.IntegrityCheck()).IsEqualTo("ok");
        // Event ids are unique and every job has its terminal event.
        var events = f.Events.ReadAfter(0, null, 10_000);
        await Assert.That(events.Select(e => e.Id).Distinct().Count()).IsEqualTo(events.Count);
        await Assert.That(events.Count(e => e.Type == "jobcompleted")).IsEqualTo(200);
    }

    /// <summary>A jobs.response value as the hand-written writer before the source-generated shape stored it.</summary>
    private const string LegacyStoredResponse =
        "{\"status_code\":206,\"content_type\":\"text/plain\",\"raw_headers\":[{\"name\":\"Content-Type\",\"value\":\"text/plain\"}," +
        "{\"name\":\"Set-Cookie\",\"value\":\"a=1\"},{\"name\":\"X-Rep\",\"value\":\"1\"},{\"name\":\"x-rep\",\"value\":\"2\"}]," +
        "\"body_decoded\":false,\"body_bytes\":5,\"total_time\":0.25,\"namelookup_time\":0.01,\"connect_time\":0.02," +
        "\"pretransfer_time\":0.03,\"starttransfer_time\":0.2,\"redirect_time\":0.5,\"redirect_count\":2,\"size_download\":5," +
        "\"size_upload\":7,\"speed_download\":20.5,\"speed_upload\":28,\"effective_url\":\"http://upstream.test/final\"," +
        "\"primary_ip\":\"127.0.0.1\",\"saved\":{\"id\":\"f1\",\"path\":\"by-job/j/x\",\"paths\":[\"by-job/j/x\",\"named/x\"],\"size\":5}," +
        "\"cache\":\"miss\"}";

    [Test]
    public async Task Stored_response_reads_the_legacy_format_and_writes_it_back_byte_for_byte()
    {
        var stored = StoredResponse.FromJson(LegacyStoredResponse);
        await Assert.That(stored.StatusCode).IsEqualTo(206);
        await Assert.That(stored.RawHeaders.Count).IsEqualTo(4);
        await Assert.That(stored.Info.Redirect).IsEqualTo(0.5);
        await Assert.That(stored.Info.RedirectCount).IsEqualTo(2);
        await Assert.That(stored.Info.SizeUpload).IsEqualTo(7L);
        await Assert.That(stored.Info.SpeedDownload).IsEqualTo(20.5);
        await Assert.That(stored.Saved!.Paths.Count).IsEqualTo(2);
        await Assert.That(stored.Cache).IsEqualTo("miss");
        await Assert.That(stored.ToJson()).IsEqualTo(LegacyStoredResponse);

        // Optional members are left out, not written as null; a record without them still reads.
        var bare = stored with { ContentType = null, PrimaryIp = null, Saved = null, Cache = null };
        var bareJson = bare.ToJson();
        foreach (var absent in new[] { "content_type", "primary_ip", "saved", "cache" })
            await Assert.That(bareJson).DoesNotContain($"\"{absent}\"");
        await Assert.That(StoredResponse.FromJson(bareJson).ToJson()).IsEqualTo(bareJson);
    }

    [Test]
    public async Task Job_response_keeps_the_wire_order_null_members_and_header_map()
    {
        await using var f = new JobsFixture();
        var job = NewJob(f) with { Status = JobStatus.Completed, Response = StoredResponse.FromJson(LegacyStoredResponse) with { PrimaryIp = null } };
        using var doc = JsonDocument.Parse(Render(job, "hello"u8.ToArray()));
        var response = doc.RootElement.GetProperty("response");
        var names = string.Join(",", response.EnumerateObject().Select(p => p.Name));
        await Assert.That(names).IsEqualTo("status_code,content_type,headers,raw_headers,body,body_truncated,saved,body_bytes,total_time," +
            "namelookup_time,connect_time,pretransfer_time,starttransfer_time,redirect_time,redirect_count,size_download,size_upload," +
            "speed_download,speed_upload,effective_url,primary_ip,cache");
        await Assert.That(response.GetProperty("primary_ip").ValueKind).IsEqualTo(JsonValueKind.Null);
        await Assert.That(response.GetProperty("body").GetArrayLength()).IsEqualTo(5);
        await Assert.That(response.GetProperty("body")[0].GetInt32()).IsEqualTo('h');
        await Assert.That(response.GetProperty("headers").GetProperty("x-rep").GetString()).IsEqualTo("1, 2");
        await Assert.That(response.GetProperty("headers").TryGetProperty("set-cookie", out _)).IsFalse();
        await Assert.That(response.GetProperty("saved").GetProperty("path").GetString()).IsEqualTo("by-job/j/x");

        using var truncated = JsonDocument.Parse(Render(job));
        await Assert.That(truncated.RootElement.GetProperty("response").GetProperty("body_truncated").GetBoolean()).IsTrue();
        await Assert.That(truncated.RootElement.GetProperty("response").GetProperty("body").GetArrayLength()).IsEqualTo(0);
    }

    internal static string Render(JobRecord job, byte[]? inline = null)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) JobJson.WriteJob(w, job, inline);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
