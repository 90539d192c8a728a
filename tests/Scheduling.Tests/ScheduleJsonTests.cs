// The create and toggle bodies: strict fields and types, the nested request parsed like /request,
// and the exact error codes.
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Requests.Validation;
using HoodyCurl.Scheduling.Endpoints;

namespace HoodyCurl.Scheduling.Tests;

public class ScheduleJsonTests
{
    private static ScheduleDraft Create(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ScheduleJson.ParseCreate(document.RootElement, RequestLimits.Default);
    }

    private static bool Toggle(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ScheduleJson.ParseToggle(document.RootElement);
    }

    [Test]
    public async Task A_full_create_body_is_read_and_defaults_apply()
    {
        var full = Create("""
            {"cron":"0 0 9 * * MON-FRI","request":{"url":"https://example.com/","job_name":"j","bearer_token":"x"},
             "name":"n","enabled":false,"timezone":"Europe/Berlin","skip_if_running":true}
            """);
        await Assert.That(full.Cron).IsEqualTo("0 0 9 * * MON-FRI");
        await Assert.That(full.Name).IsEqualTo("n");
        await Assert.That(full.Enabled).IsFalse();
        await Assert.That(full.TimeZone).IsEqualTo("Europe/Berlin");
        await Assert.That(full.SkipIfRunning).IsTrue();
        await Assert.That(full.Request.BearerToken).IsEqualTo("x");

        var minimal = Create("""{"cron":"@hourly","request":{"url":"https://example.com/"},"name":null,"enabled":null,"timezone":null}""");
        await Assert.That(minimal.Enabled).IsTrue();
        await Assert.That(minimal.SkipIfRunning).IsFalse();
        await Assert.That(minimal.TimeZone).IsNull();
        await Assert.That(minimal.Name).IsNull();
    }

    [Test]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://e.com/"},"extra":1}""", "VALIDATION_ERROR")]      // unknown field
    [Arguments("""{"request":{"url":"https://e.com/"}}""", "VALIDATION_ERROR")]                                  // no cron
    [Arguments("""{"cron":null,"request":{"url":"https://e.com/"}}""", "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly"}""", "VALIDATION_ERROR")]                                                      // no request
    [Arguments("""{"cron":"@hourly","request":null}""", "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":"https://e.com/"}""", "VALIDATION_ERROR")]                         // request not an object
    [Arguments("""{"cron":"@hourly","request":{"url":"https://e.com/","bogus":1}}""", "VALIDATION_ERROR")]       // unknown request field
    [Arguments("""{"cron":"@hourly","request":{"url":"https://e.com/","proxy":"http://p:1"}}""", "VALIDATION_ERROR")] // rejected field
    [Arguments("""{"cron":"@hourly","request":{"method":"GET"}}""", "VALIDATION_ERROR")]                         // request without url
    [Arguments("""{"cron":"@hourly","request":{"url":"https://e.com/"},"enabled":"true"}""", "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://e.com/"},"skip_if_running":1}""", "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://e.com/"},"name":5}""", "VALIDATION_ERROR")]
    [Arguments("""{"cron":"@hourly","request":{"url":"https://e.com/"},"timezone":false}""", "VALIDATION_ERROR")]
    [Arguments("""{"cron":5,"request":{"url":"https://e.com/"}}""", "INVALID_CRON")]                             // cron not a string
    [Arguments("""["@hourly"]""", "VALIDATION_ERROR")]
    public async Task Bad_create_bodies_are_400(string json, string code)
    {
        var error = Assert.Throws<ApiErrorException>(() => Create(json)).Error;
        await Assert.That(error.Status).IsEqualTo(400);
        await Assert.That(error.Code).IsEqualTo(code);
        if (code == "INVALID_CRON") await Assert.That(error.Message).IsEqualTo("Invalid cron expression");
    }

    [Test]
    public async Task Toggle_takes_exactly_an_explicit_boolean()
    {
        await Assert.That(Toggle("""{"enabled":true}""")).IsTrue();
        await Assert.That(Toggle("""{"enabled":false}""")).IsFalse();
        foreach (var bad in new[] { "{}", """{"enabled":null}""", """{"enabled":"true"}""", """{"enabled":1}""", """{"enabled":0}""",
                     """{"enabled":[true]}""", """{"enabled":true,"x":1}""", "true", "null", """{"Enabled":true}""" })
        {
            var error = Assert.Throws<ApiErrorException>(() => Toggle(bad)).Error;
            await Assert.That(error.Status).IsEqualTo(400);
            await Assert.That(error.Code).IsEqualTo("VALIDATION_ERROR");
        }
    }
}
