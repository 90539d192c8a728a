// The create body: strict fields with messages naming them; the request parsed by the same parser as
// POST /request (rejected fields, header injection, unknown fields).
using System.Text.Json;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Links.Endpoints;
using HoodyCurl.Requests.Model;
using HoodyCurl.Requests.Validation;

namespace HoodyCurl.Links.Tests;

public class LinkJsonTests
{
    private static LinkDraft Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return LinkJson.ParseCreate(document.RootElement, RequestLimits.Default, new LinksOptions());
    }

    private static string With(string fields) => $"{{\"request\":{{\"url\":\"https://api.example.com/x\"}}{fields}}}";

    [Test]
    [Arguments("{}", "'request' is required")]
    [Arguments("[]", "must be a JSON object")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\",\"proxy\":\"http://p\"}}", "request: field 'proxy' is not supported")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\",\"cacert\":\"x\"}}", "request: field 'cacert' is not supported")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\",\"headers\":{\"X\":\"a\\r\\nB: c\"}}}", "request: header 'X' has a CR, LF or NUL")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\",\"nope\":1}}", "request: unknown field 'nope'")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"nope\":1}", "unknown field 'nope'")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"max_uses\":0}", "'max_uses' must be an integer of at least 1")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"max_uses\":1.5}", "'max_uses'")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"methods\":[]}", "'methods' must list 1 to 16")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"methods\":[\"G ET\"]}", "not an HTTP method token")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"expires_at\":\"tomorrow\"}", "'expires_at' must be an RFC 3339 time")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"expires_at\":\"2026-01-15T10:30:00\"}", "'expires_at' must be an RFC 3339 time")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"mode\":\"later\"}", "'mode' must be sync or async")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\",\"mode\":\"sync\"},\"mode\":\"async\"}", "disagree")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\",\"data\":\"x\"},\"forward_body\":true}", "forward_body")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"params\":[{\"name\":\"q\",\"in\":\"path\"}]}", "must be query, header or body")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"params\":[{\"name\":\"a b\",\"in\":\"query\"}]}", "'params[].name'")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"params\":[{\"name\":\"q\",\"in\":\"query\",\"pattern\":\"(a)\\\\1\"}]}", "not a supported regular expression")]
    [Arguments("{\"request\":{\"url\":\"https://a.example/\"},\"params\":[{\"name\":\"q\",\"in\":\"query\",\"extra\":1}]}", "unknown field 'params[].extra'")]
    public async Task Bad_create_bodies_are_400_naming_the_field(string json, string message)
    {
        var e = await Assert.That(() => Parse(json)).Throws<ApiErrorException>();
        await Assert.That(e!.Error.Status).IsEqualTo(400);
        await Assert.That(e.Error.Code).IsEqualTo(ErrorCodes.Validation);
        await Assert.That(e.Error.Message).Contains(message);
    }

    [Test]
    public async Task The_name_is_capped_at_256_characters()
    {
        await Assert.That(Parse(With($",\"name\":\"{new string('n', 256)}\"")).Name!.Length).IsEqualTo(256);
        var e = await Assert.That(() => Parse(With($",\"name\":\"{new string('n', 257)}\""))).Throws<ApiErrorException>();
        await Assert.That(e!.Error.Message).Contains("at most 256");
    }

    [Test]
    public async Task A_full_body_parses_with_defaults_where_fields_are_absent()
    {
        var plain = Parse(With(""));
        await Assert.That(plain.Methods).IsEquivalentTo(new[] { "GET" });
        await Assert.That(plain.Request.Mode).IsEqualTo(ExecutionMode.Sync);
        await Assert.That(plain.MaxUses).IsNull();
        await Assert.That(plain.ExpiresAt).IsNull();

        var full = Parse("""
            {"request":{"url":"https://a.example/hook","method":"POST","bearer_token":"s"},"name":"relay",
             "expires_at":"2030-01-02T03:04:05.678+02:00","max_uses":3,"methods":["post","PUT","POST"],
             "params":[{"name":"q","in":"query","required":true,"pattern":"^[a-z]+$"},{"name":"X-T","in":"header"}],
             "forward_body":true,"mode":"async"}
            """);
        await Assert.That(full.Name).IsEqualTo("relay");
        await Assert.That(full.ExpiresAt).IsEqualTo(new DateTimeOffset(2030, 1, 2, 1, 4, 5, 678, TimeSpan.Zero));
        await Assert.That(full.MaxUses).IsEqualTo(3);
        await Assert.That(full.Methods).IsEquivalentTo(new[] { "POST", "PUT" });
        await Assert.That(full.Params.Count).IsEqualTo(2);
        await Assert.That(full.Params[0]).IsEqualTo(new LinkParam("q", ParamLocation.Query, true, "^[a-z]+$"));
        await Assert.That(full.ForwardBody).IsTrue();
        await Assert.That(full.Request.Mode).IsEqualTo(ExecutionMode.Async);
        await Assert.That(full.Request.BearerToken).IsEqualTo("s");
    }
}
