// The schedule routes' shapes and refusals against the real binary: 201 with the whole (redacted)
// schedule, every nickname, IANA time zones in the AOT binary, strict create and toggle bodies,
// INVALID_CRON with its exact message, the SSRF pre-check at creation, pagination, unknown ids.
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Scheduling;

public class ScheduleApiTests
{
    [Test]
    public async Task Create_answers_201_with_the_whole_schedule_and_secrets_redacted()
    {
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var (status, created) = await client.PostJsonAsync(SchedulesApi.Path, """
            {"cron":"0 0 9 * * MON-FRI","timezone":"Europe/Berlin","name":"standup",
             "request":{"url":"https://example.com/hook","method":"POST","json":{"a":1},"job_name":"hook",
                        "bearer_token":"t0ken","headers":{"Authorization":"Basic abc","X-Api-Key":"k3y","X-Trace":"1"}}}
            """);
        await Assert.That(status).IsEqualTo(201);
        var id = created.Str("schedule_id");
        await Assert.That(created.Str("id")).IsEqualTo(id);
        await Assert.That(created.Str("name")).IsEqualTo("standup");
        await Assert.That(created.Str("cron")).IsEqualTo("0 0 9 * * MON-FRI");
        await Assert.That(created.Str("timezone")).IsEqualTo("Europe/Berlin");
        await Assert.That(created.GetProperty("enabled").GetBoolean()).IsTrue();
        await Assert.That(created.GetProperty("skip_if_running").GetBoolean()).IsFalse();
        await Assert.That(created.GetProperty("run_count").GetInt64()).IsEqualTo(0);
        await Assert.That(created.GetProperty("last_run").ValueKind).IsEqualTo(JsonValueKind.Null);
        await Assert.That(created.GetProperty("last_job_id").ValueKind).IsEqualTo(JsonValueKind.Null);
        var next = created.Time("next_run");
        await Assert.That(next.Hour is 7 or 8).IsTrue(); // 09:00 in Berlin is 07:00 or 08:00 UTC
        await Assert.That(next.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)).IsTrue();
        await Assert.That(created.Time("created_at")).IsLessThanOrEqualTo(DateTimeOffset.UtcNow);
        var request = created.GetProperty("request");
        await Assert.That(request.Str("bearer_token")).IsEqualTo("***");
        await Assert.That(request.GetProperty("headers").Str("Authorization")).IsEqualTo("***");
        await Assert.That(request.GetProperty("headers").Str("X-Trace")).IsEqualTo("1");
        await Assert.That(request.GetProperty("json").GetProperty("a").GetInt32()).IsEqualTo(1);

        var (got, schedule) = await client.GetJsonAsync($"{SchedulesApi.Path}/{id}");
        await Assert.That(got).IsEqualTo(200);
        await Assert.That(schedule.TryGetProperty("schedule_id", out _)).IsFalse();
        await Assert.That(schedule.GetRawText()).DoesNotContain("t0ken");
        await Assert.That(schedule.GetRawText()).DoesNotContain("Basic abc");
        await Assert.That(schedule.GetRawText()).DoesNotContain("k3y");
    }

    [Test]
    public async Task Every_nickname_and_the_documented_examples_are_accepted()
    {
        await using var sidecar = await Sidecar.StartAsync();
        foreach (var cron in new[] { "@yearly", "@monthly", "@weekly", "@daily", "@hourly", "0 * * * * *", "0 0 * * * *",
                     "0 0 9 * * MON-FRI", "0 0 0 * * *", "0 0 12 1 * *", "0 */15 * * * *", "0 0 8-18/2 * * 1,3,5" })
        {
            var schedule = await SchedulesApi.CreateAsync(sidecar.Client, cron, "https://example.com/", extraFields: ",\"enabled\":false");
            await Assert.That(schedule.Str("cron")).IsEqualTo(cron);
            await Assert.That(schedule.GetProperty("next_run").ValueKind).IsEqualTo(JsonValueKind.Null); // disabled
        }
        var hourly = await SchedulesApi.CreateAsync(sidecar.Client, "@hourly", "https://example.com/");
        var next = hourly.Time("next_run");
        await Assert.That((next.Minute, next.Second, next.Millisecond)).IsEqualTo((0, 0, 0));
        var ny = await SchedulesApi.CreateAsync(sidecar.Client, "@daily", "https://example.com/", extraFields: ",\"timezone\":\"America/New_York\"");
        await Assert.That(ny.Time("next_run").Hour is 4 or 5).IsTrue(); // midnight in New York
    }

    [Test]
    [Arguments("""{"cron":"*/15 * * * *","request":{"url":"https://example.com/"}}""", 400, "INVALID_CRON")]      // 5 fields
    [Arguments("""{"cron":"@every 5s","request":{"url":"https://example.com/"}}""", 400, "INVALID_CRON")]
    [Arguments("""{"cron":"0 0 0 1 1 * 2030","request":{"url":"https://example.com/"}}""", 400, "INVALID_CRON")]  // 7 fields
    [Arguments("""{"cron":"garbage","request":{"url":"https://example.com/"}}""", 400, "INVALID_CRON")]
    [Arguments("""{"cron":"","request":{"url":"https://example.com/"}}""", 400, "INVALID_CRON")]
    [Arguments("""{"cron":"@midnight","request":{"url":"https://example.com/"}}""", 400, "INVALID_CRON")]
    [Arguments("""{"cron":"0 0 0 30 2 *","request":{"url":"https://example.com/"}}""", 400, "INVALID_CRON")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://example.com/"},"extra":true}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://example.com/","nope":1}}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://example.com/","proxy":"http://p:3128"}}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://example.com/","cert":"x"}}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://example.com/","headers":{"X":"a\r\nb"}}}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"ftp://example.com/"}}""", 403, "SSRF_BLOCKED")]             // http and https only
    [Arguments("""{"cron":"@hourly"}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"request":{"url":"https://example.com/"}}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://example.com/"},"timezone":"Mars/Olympus_Mons"}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://example.com/"},"timezone":"../../etc/passwd"}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://example.com/"},"enabled":"yes"}""", 400, "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://example.com/"}""", 400, "VALIDATION_ERROR")]           // not JSON
    [Arguments("""{"cron":"@hourly","request":{"url":"http://10.0.0.1/"}}""", 403, "SSRF_BLOCKED")]
    [Arguments("""{"cron":"@hourly","request":{"url":"http://169.254.169.254/latest/meta-data/"}}""", 403, "SSRF_BLOCKED")]
    [Arguments("""{"cron":"@hourly","request":{"url":"http://127.0.0.2/"}}""", 403, "SSRF_BLOCKED")]
    public async Task Bad_creates_are_refused_and_nothing_is_stored(string body, int status, string code)
    {
        await using var sidecar = await Sidecar.StartAsync();
        var (answered, error) = await sidecar.Client.PostJsonAsync(SchedulesApi.Path, body);
        await Assert.That(answered).IsEqualTo(status);
        await Assert.That(error.Str("error")).IsEqualTo(code);
        await Assert.That(error.Str("code")).IsEqualTo(code);
        if (code == "INVALID_CRON") await Assert.That(error.Str("message")).IsEqualTo("Invalid cron expression");
        var (_, list) = await sidecar.Client.GetJsonAsync(SchedulesApi.Path);
        await Assert.That(list.GetProperty("meta").GetProperty("total").GetInt64()).IsEqualTo(0);
    }

    [Test]
    public async Task Toggle_takes_only_an_explicit_boolean_and_answers_the_updated_schedule()
    {
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var id = (await SchedulesApi.CreateAsync(client, "@hourly", "https://example.com/")).Str("schedule_id");
        foreach (var bad in new[] { "{}", """{"enabled":null}""", """{"enabled":"false"}""", """{"enabled":0}""", """{"enabled":false,"x":1}""", "false", "", "not json" })
        {
            var (status, error) = await SchedulesApi.ToggleAsync(client, id, bad);
            await Assert.That(status).IsEqualTo(400);
            await Assert.That(error.Str("error")).IsEqualTo("VALIDATION_ERROR");
        }
        var (_, still) = await client.GetJsonAsync($"{SchedulesApi.Path}/{id}");
        await Assert.That(still.GetProperty("enabled").GetBoolean()).IsTrue();

        var off = await SchedulesApi.SetEnabledAsync(client, id, false);
        await Assert.That(off.Str("id")).IsEqualTo(id);
        await Assert.That(off.GetProperty("enabled").GetBoolean()).IsFalse();
        await Assert.That(off.GetProperty("next_run").ValueKind).IsEqualTo(JsonValueKind.Null);
        var again = await SchedulesApi.SetEnabledAsync(client, id, false);
        await Assert.That(again.GetProperty("enabled").GetBoolean()).IsFalse();
        var on = await SchedulesApi.SetEnabledAsync(client, id, true);
        await Assert.That(on.Time("next_run").Minute).IsEqualTo(0);
    }

    [Test]
    public async Task Lists_are_newest_first_and_paginated()
    {
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add((await SchedulesApi.CreateAsync(client, "@daily", $"https://example.com/{i}", extraFields: $",\"name\":\"s{i}\"")).Str("schedule_id"));
        ids.Reverse();

        var (_, all) = await client.GetJsonAsync(SchedulesApi.Path);
        await Assert.That(all.GetProperty("items").EnumerateArray().Select(s => s.Str("id")).ToArray()).IsEquivalentTo(ids.ToArray());
        await Assert.That(all.GetProperty("meta").GetProperty("total").GetInt64()).IsEqualTo(5);
        await Assert.That(all.GetProperty("meta").GetProperty("page").GetInt32()).IsEqualTo(1);
        await Assert.That(all.GetProperty("meta").GetProperty("limit").GetInt32()).IsEqualTo(5);
        await Assert.That(all.GetProperty("has_more").GetBoolean()).IsFalse();

        var (_, page2) = await client.GetJsonAsync($"{SchedulesApi.Path}?limit=2&page=2");
        await Assert.That(page2.GetProperty("items").EnumerateArray().Select(s => s.Str("id")).ToArray()).IsEquivalentTo(ids.Skip(2).Take(2).ToArray());
        await Assert.That(page2.GetProperty("has_more").GetBoolean()).IsTrue();
        var (_, page3) = await client.GetJsonAsync($"{SchedulesApi.Path}?limit=2&page=3");
        await Assert.That(page3.GetProperty("items").GetArrayLength()).IsEqualTo(1);
        await Assert.That(page3.GetProperty("has_more").GetBoolean()).IsFalse();
        var (_, past) = await client.GetJsonAsync($"{SchedulesApi.Path}?limit=2&page=9");
        await Assert.That(past.GetProperty("items").GetArrayLength()).IsEqualTo(0);
        await Assert.That(past.GetProperty("meta").GetProperty("total").GetInt64()).IsEqualTo(5);
        var (_, capped) = await client.GetJsonAsync($"{SchedulesApi.Path}?limit=5000");
        await Assert.That(capped.GetProperty("meta").GetProperty("limit").GetInt32()).IsEqualTo(1000);
        foreach (var bad in new[] { "page=0", "limit=0", "limit=abc", "page=-1" })
            await Assert.That((await client.GetJsonAsync($"{SchedulesApi.Path}?{bad}")).Status).IsEqualTo(400);
    }

    [Test]
    public async Task Unknown_schedules_are_404_schedule_not_found()
    {
        await using var sidecar = await Sidecar.StartAsync();
        var client = sidecar.Client;
        foreach (var id in new[] { Guid.NewGuid().ToString("D"), "not-a-uuid", "a%2Fb" })
        {
            var (get, error) = await client.GetJsonAsync($"{SchedulesApi.Path}/{id}");
            await Assert.That(get).IsEqualTo(404);
            await Assert.That(error.Str("error")).IsEqualTo("SCHEDULE_NOT_FOUND");
            await Assert.That(error.Str("message")).IsEqualTo("Schedule not found");
            await Assert.That((await SchedulesApi.ToggleAsync(client, id, """{"enabled":true}""")).Status).IsEqualTo(404);
            await Assert.That((await SchedulesApi.DeleteAsync(client, id)).Body.Str("error")).IsEqualTo("SCHEDULE_NOT_FOUND");
        }
    }

    [Test]
    public async Task No_schedules_flag_makes_every_schedule_route_404_and_leaves_jobs_alone()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--no-schedules");
        var client = sidecar.Client;
        var id = Guid.NewGuid().ToString("D");
        var calls = new List<(string Method, string Path, string? Body)>
        {
            ("POST", SchedulesApi.Path, """{"cron":"*/1 * * * * *","request":{"url":"https://example.com/"}}"""),
            ("GET", SchedulesApi.Path, null),
            ("GET", $"{SchedulesApi.Path}?page=1&limit=10", null),
            ("GET", $"{SchedulesApi.Path}/{id}", null),
            ("PATCH", $"{SchedulesApi.Path}/{id}/toggle", """{"enabled":true}"""),
            ("DELETE", $"{SchedulesApi.Path}/{id}", null),
            ("PUT", $"{SchedulesApi.Path}/{id}", "{}"),
        };
        foreach (var (method, path, body) in calls)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null) request.Content = Api.Json(body);
            using var response = await client.SendAsync(request);
            await Assert.That((int)response.StatusCode).IsEqualTo(404);
            var error = await Api.ReadJsonAsync(response);
            await Assert.That(error.Str("error")).IsEqualTo("NOT_FOUND");
        }
        // Everything else still works.
        await Assert.That(await Jobs.JobsApi.SubmitAsync(client, upstream.Url("/status/200"))).IsNotNull();
        await Assert.That((await client.GetJsonAsync("/api/v1/curl/jobs")).Status).IsEqualTo(200);
        await Assert.That(await client.GetStringAsync("/metrics")).DoesNotContain("hoody_curl_schedule_firings_total");
    }
}
