// The hostile-input suite against one sidecar: every malformed, oversized or injecting input gets the
// documented 4xx in the contract's error shape (never a 500), is refused before any transfer (the
// upstream's trace stays empty), and afterwards the process is healthy and small.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Security;

[ClassDataSource<HostileEnvironment>(Shared = SharedType.PerClass)]
public class HostileInputTests(HostileEnvironment env)
{
    private const string RequestPath = "/api/v1/curl/request";

    // ---- JSON shape ---------------------------------------------------------------------------------

    [Test]
    [Arguments("", "request body is required")]
    [Arguments("{", "not valid JSON")]
    [Arguments("{\"url\":", "not valid JSON")]
    [Arguments("nul", "not valid JSON")]
    [Arguments("{'url':'http://127.0.0.1/'}", "not valid JSON")]
    [Arguments("{\"url\":\"http://127.0.0.1/\",}", "not valid JSON")]
    [Arguments("{\"url\":\"http://127.0.0.1/\"} trailing", "not valid JSON")]
    [Arguments("{\"url\":\"http://127.0.0.1/\"}{}", "not valid JSON")]
    [Arguments("\"just a string\"", "must be a JSON object")]
    [Arguments("[{\"url\":\"http://127.0.0.1/\"}]", "must be a JSON object")]
    [Arguments("null", "must be a JSON object")]
    [Arguments("42", "must be a JSON object")]
    [Arguments("{}", "'url' is required")]
    [Arguments("{\"url\":null}", "'url' is required")]
    public async Task Malformed_json_is_400(string body, string fragment)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await env.Client.PostAsync(RequestPath, content);
        await AssertError(response, 400, "VALIDATION_ERROR", fragment);
    }

    [Test]
    public async Task Nesting_deeper_than_max_json_depth_is_400_and_at_the_limit_is_fine()
    {
        var (url, trace) = env.TracedEcho();
        // The root object is one level: json nested MaxJsonDepth - 1 deep is the deepest accepted.
        var ok = Nested(HostileEnvironment.MaxJsonDepth - 1);
        var (okStatus, okBody) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, $"\"json\":{ok}"));
        await Assert.That(okStatus).IsEqualTo(200).Because(okBody.ToString());
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(1);

        var (deepUrl, deepTrace) = env.TracedEcho();
        foreach (var json in new[]
                 {
                     HostileEnvironment.Body(deepUrl, $"\"json\":{Nested(HostileEnvironment.MaxJsonDepth)}"),
                     HostileEnvironment.Body(deepUrl, $"\"json\":{string.Concat(Enumerable.Repeat("{\"a\":", 40))}1{new string('}', 40)}"),
                     new string('[', 30000) + new string(']', 30000),
                 })
        {
            var (status, body) = await env.Client.PostJsonAsync(RequestPath, json);
            await AssertError(status, body, 400, "VALIDATION_ERROR", "not valid JSON");
        }
        var (bridgeStatus, bridgeBody) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(deepUrl)}&json={Api.Q(Nested(40))}");
        await AssertError(bridgeStatus, bridgeBody, 400, "VALIDATION_ERROR", "'json'");
        var deepHeaders = "{\"X-A\":" + Nested(10) + "}";
        var (headersStatus, headersBody) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(deepUrl)}&headers={Api.Q(deepHeaders)}");
        await AssertError(headersStatus, headersBody, 400, "VALIDATION_ERROR", "'headers'");
        await Assert.That(env.Upstream.Trace(deepTrace).Hits).IsEqualTo(0);
    }

    [Test]
    [Arguments("data_base64", "\"AAAA\"")]
    [Arguments("body", "\"x\"")]
    [Arguments("body_base64", "\"AAAA\"")]
    [Arguments("header", "\"X-A: 1\"")]
    [Arguments("data_binary", "\"x\"")]
    [Arguments("binary_body", "\"x\"")]
    [Arguments("URL", "\"http://127.0.0.1/\"")]
    [Arguments("Proxy", "\"http://evil/\"")]
    [Arguments("no_such_field", "null")]
    public async Task Unknown_field_is_400_naming_it(string field, string value)
    {
        var (url, trace) = env.TracedEcho();
        var (status, body) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, $"\"{field}\":{value}"));
        await AssertError(status, body, 400, "VALIDATION_ERROR", $"unknown field '{field}'");
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    [Test]
    [Arguments("proxy")]
    [Arguments("proxy_user")]
    [Arguments("proxy_password")]
    [Arguments("cacert")]
    [Arguments("cert")]
    [Arguments("key")]
    public async Task Rejected_field_with_a_value_is_400_naming_it_and_null_is_accepted(string field)
    {
        var (url, trace) = env.TracedEcho();
        foreach (var value in new[] { "\"http://proxy.example:3128\"", "\"/etc/ssl/private/key.pem\"", "\"\"", "0", "false", "{}", "[]" })
        {
            var (status, body) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, $"\"{field}\":{value}"));
            await AssertError(status, body, 400, "VALIDATION_ERROR", $"field '{field}'");
        }
        var (asyncStatus, asyncBody) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, $"\"mode\":\"async\",\"{field}\":\"x\""));
        await AssertError(asyncStatus, asyncBody, 400, "VALIDATION_ERROR", $"field '{field}'");
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);

        var (okStatus, ok) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, $"\"{field}\":null"));
        await Assert.That(okStatus).IsEqualTo(200).Because(ok.ToString());
        await Assert.That(ok.GetProperty("status_code").GetInt32()).IsEqualTo(200);
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(1);
    }

    // ---- header injection (CR, LF, NUL) ----------------------------------------------------------

    [Test]
    [Arguments("\"headers\":{\"X-A\":\"a\\r\\nX-Injected: 1\"}", "header 'X-A'")]
    [Arguments("\"headers\":{\"X-A\":\"a\\nb\"}", "header 'X-A'")]
    [Arguments("\"headers\":{\"X-A\":\"a\\rb\"}", "header 'X-A'")]
    [Arguments("\"headers\":{\"X-A\":\"a\\u0000b\"}", "header 'X-A'")]
    [Arguments("\"headers\":{\"X-A\":\"a\\u0001b\"}", "header 'X-A'")]
    [Arguments("\"headers\":{\"X-A\\r\\nX-Injected\":\"1\"}", "header name")]
    [Arguments("\"headers\":{\"X-A\\u0000\":\"1\"}", "header name")]
    [Arguments("\"headers\":{\"\\nX-A\":\"1\"}", "header name")]
    [Arguments("\"headers\":{\"X A\":\"1\"}", "header name")]
    [Arguments("\"headers\":{\"X-A:\":\"1\"}", "header name")]
    [Arguments("\"headers\":{\"\":\"1\"}", "header name")]
    [Arguments("\"user_agent\":\"ua\\r\\nX-Injected: 1\"", "'user_agent'")]
    [Arguments("\"user_agent\":\"ua\\u0000\"", "'user_agent'")]
    [Arguments("\"referer\":\"http://r/\\nX-Injected: 1\"", "'referer'")]
    [Arguments("\"cookie\":\"a=1\\r\\nX-Injected: 1\"", "'cookie'")]
    [Arguments("\"cookie\":\"a=1\\u0000\"", "'cookie'")]
    [Arguments("\"bearer_token\":\"t\\r\\nX-Injected: 1\"", "'bearer_token'")]
    [Arguments("\"bearer_token\":\"t\\u0000\"", "'bearer_token'")]
    [Arguments("\"auth_user\":\"u\\r\\n\",\"auth_password\":\"p\"", "'auth_user'")]
    [Arguments("\"auth_user\":\"u\",\"auth_password\":\"p\\n\"", "'auth_password'")]
    public async Task Header_injection_in_post_is_400(string fields, string fragment)
    {
        var (url, trace) = env.TracedEcho();
        var (status, body) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, fields));
        await AssertError(status, body, 400, "VALIDATION_ERROR", fragment);
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    [Test]
    [Arguments("header", "X-A: a\r\nX-Injected: 1", "header 'X-A'")]
    [Arguments("header", "X-A: a\nb", "header 'X-A'")]
    [Arguments("header", "X-A: a\0b", "header 'X-A'")]
    [Arguments("header", "X-A: a\r", "header 'X-A'")]
    [Arguments("header", "X-A\r\n: a", "header name")]
    [Arguments("header", "\r\nX-A: a", "header name")]
    [Arguments("header", "X-A\0: a", "header name")]
    [Arguments("header", "X-A: 1,X-B\n: 2", "CR, LF or NUL")]
    [Arguments("header", "X A: 1", "header name")]
    [Arguments("header", "NoColon", "Name: Value")]
    [Arguments("headers", "{\"X-A\":\"a\\r\\nX-Injected: 1\"}", "header 'X-A'")]
    [Arguments("headers", "{\"X-A\":\"a\\u0000\"}", "header 'X-A'")]
    [Arguments("headers", "{\"X-A\\n\":\"a\"}", "header name")]
    [Arguments("headers", "{\"X-A\":\"\\ud800\"}", "'headers'")]
    [Arguments("headers", "{\"X-A\":1}", "must be a string")]
    [Arguments("headers", "[\"X-A: 1\"]", "JSON object")]
    [Arguments("headers", "{not json", "not valid JSON")]
    [Arguments("user_agent", "ua\r\nX-Injected: 1", "'user_agent'")]
    [Arguments("referer", "r\nX-Injected: 1", "'referer'")]
    [Arguments("bearer_token", "t\0", "'bearer_token'")]
    [Arguments("bearer_token", "t\r\nX-Injected: 1", "'bearer_token'")]
    public async Task Header_injection_through_the_bridge_is_400(string parameter, string value, string fragment)
    {
        var (url, trace) = env.TracedEcho();
        var (status, body) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}&{parameter}={Api.Q(value)}");
        await AssertError(status, body, 400, "VALIDATION_ERROR", fragment);
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    // ---- sizes --------------------------------------------------------------------------------------

    [Test]
    public async Task Too_many_headers_is_400_through_every_way_in()
    {
        var (url, trace) = env.TracedEcho();
        var limit = HostileEnvironment.MaxHeaderCount;
        var names = Enumerable.Range(0, limit + 1).Select(i => $"X-H{i}").ToList();

        var json = "\"headers\":{" + string.Join(",", names.Select(n => $"\"{n}\":\"v\"")) + "}";
        var (postStatus, postBody) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, json));
        await AssertError(postStatus, postBody, 400, "VALIDATION_ERROR", "too many headers");

        var baseQuery = $"{RequestPath}?url={Api.Q(url)}";
        var repeated = string.Concat(names.Select(n => "&header=" + Api.Q($"{n}: v")));
        var joined = "&header=" + Api.Q(string.Join(",", names.Select(n => $"{n}: v")));
        var mixed = "&headers=" + Api.Q("{" + string.Join(",", names.Take(10).Select(n => $"\"{n}\":\"v\"")) + "}") +
                    string.Concat(names.Skip(10).Select(n => "&header=" + Api.Q($"{n}: v")));
        foreach (var query in new[] { repeated, joined, mixed })
        {
            var (status, body) = await env.Client.GetJsonAsync(baseQuery + query);
            await AssertError(status, body, 400, "VALIDATION_ERROR", "too many headers");
        }
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);

        // Exactly the limit is fine.
        var atLimit = "\"headers\":{" + string.Join(",", names.Take(limit).Select(n => $"\"{n}\":\"v\"")) + "}";
        var (okStatus, ok) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, atLimit));
        await Assert.That(okStatus).IsEqualTo(200).Because(ok.ToString());
    }

    [Test]
    public async Task Huge_header_value_is_400_through_every_way_in()
    {
        var (url, trace) = env.TracedEcho();
        var huge = new string('v', HostileEnvironment.MaxHeaderBytes + 1);
        var (postStatus, postBody) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, $"\"headers\":{{\"X-Big\":\"{huge}\"}}"));
        await AssertError(postStatus, postBody, 400, "VALIDATION_ERROR", $"longer than {HostileEnvironment.MaxHeaderBytes} bytes");
        foreach (var query in new[] { "&header=" + Api.Q("X-Big: " + huge), "&headers=" + Api.Q($"{{\"X-Big\":\"{huge}\"}}") })
        {
            var (status, body) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}{query}");
            await AssertError(status, body, 400, "VALIDATION_ERROR", $"longer than {HostileEnvironment.MaxHeaderBytes} bytes");
        }
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    [Test]
    public async Task Huge_query_string_is_414_and_kestrel_limits_answer_4xx()
    {
        var (url, trace) = env.TracedEcho();
        // Over the bridge's own query cap (4 x --max-url-length + 64 KiB): 414 in the contract's shape.
        var (status, body) = await RawRequest.SendAsync(env.Sidecar.Port,
            RawRequest.Get($"{RequestPath}?url={Api.Q(url)}&pad={new string('a', 200_000)}"));
        await Assert.That(status).IsEqualTo(414).Because(body);
        await AssertErrorShape(body, "URI_TOO_LONG");

        // Past Kestrel's own limits (1 MiB request line, 100 header fields, 256 KiB of headers) Kestrel answers
        // before any handler runs: a bodiless 4xx, never a 500, and the connection is closed.
        var (lineStatus, _) = await RawRequest.SendAsync(env.Sidecar.Port,
            RawRequest.Get($"{RequestPath}?url={Api.Q(url)}&pad={new string('a', 1_500_000)}"));
        await Assert.That(lineStatus).IsEqualTo(414);
        var manyFields = string.Concat(Enumerable.Range(0, 300).Select(i => $"X-F{i}: v\r\n"));
        var (fieldsStatus, _) = await RawRequest.SendAsync(env.Sidecar.Port, RawRequest.Get($"{RequestPath}?url={Api.Q(url)}", manyFields));
        await Assert.That(fieldsStatus).IsEqualTo(431);
        var (bigStatus, _) = await RawRequest.SendAsync(env.Sidecar.Port,
            RawRequest.Get($"{RequestPath}?url={Api.Q(url)}", $"X-Huge: {new string('h', 300_000)}\r\n"));
        await Assert.That(bigStatus).IsEqualTo(431);
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    [Test]
    public async Task Oversized_url_is_400_through_both_doors()
    {
        var (url, trace) = env.TracedEcho();
        var longUrl = url + "&pad=" + new string('a', HostileEnvironment.MaxUrlLength);
        var (postStatus, postBody) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(longUrl, ""));
        await AssertError(postStatus, postBody, 400, "VALIDATION_ERROR", $"longer than {HostileEnvironment.MaxUrlLength} characters");
        var (status, body) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(longUrl)}");
        await AssertError(status, body, 400, "VALIDATION_ERROR", $"longer than {HostileEnvironment.MaxUrlLength} characters");
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    [Test]
    public async Task Body_over_the_limit_is_413_declared_chunked_or_lying()
    {
        var (url, trace) = env.TracedEcho();
        var json = HostileEnvironment.Body(url, $"\"data\":\"{new string('x', HostileEnvironment.MaxBodyBytes)}\"");
        var (status, body) = await env.Client.PostJsonAsync(RequestPath, json);
        await AssertError(status, body, 413, "PAYLOAD_TOO_LARGE", "--max-request-body-bytes");

        using var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, RequestPath) { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var chunkedResponse = await env.Client.SendAsync(request);
        await AssertError(chunkedResponse, 413, "PAYLOAD_TOO_LARGE", "--max-request-body-bytes");

        // A Content-Length of a terabyte with no body behind it is refused at once, without waiting for bytes.
        var started = Stopwatch.StartNew();
        var (lyingStatus, lyingBody) = await RawRequest.SendAsync(env.Sidecar.Port, Encoding.ASCII.GetBytes(
            $"POST {RequestPath} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{{"));
        await Assert.That(lyingStatus).IsEqualTo(413).Because(lyingBody);
        await AssertErrorShape(lyingBody, "PAYLOAD_TOO_LARGE");
        await Assert.That(started.Elapsed).IsLessThan(TimeSpan.FromSeconds(10));
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    // ---- encodings and types ----------------------------------------------------------------------

    [Test]
    [Arguments("!!!!")]
    [Arguments("A")]
    [Arguments("QUJD===")]
    [Arguments("QU=JD")]
    [Arguments("QUJD\u00e9")]
    [Arguments("====")]
    public async Task Invalid_base64_is_400(string value)
    {
        var (url, trace) = env.TracedEcho();
        foreach (var name in new[] { "data_base64", "body_base64" })
        {
            var (status, body) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}&{name}={Api.Q(value)}");
            await AssertError(status, body, 400, "VALIDATION_ERROR", "not valid base64");
        }
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    [Test]
    [Arguments(new byte[] { 0xff, 0xfe }, "not valid UTF-8")]
    [Arguments(new byte[] { 0xc0, 0x80 }, "not valid UTF-8")]
    [Arguments(new byte[] { 0xed, 0xa0, 0x80 }, "not valid UTF-8")]
    [Arguments(new byte[] { 0xe2, 0x82 }, "not valid UTF-8")]
    [Arguments(new byte[] { 0xf8, 0x88, 0x80, 0x80, 0x80 }, "not valid UTF-8")]
    public async Task Invalid_utf8_in_the_post_body_is_400(byte[] bad, string fragment)
    {
        var (url, trace) = env.TracedEcho();
        foreach (var field in new[] { "data", "user_agent", "job_name" })
        {
            var prefix = Encoding.UTF8.GetBytes(HostileEnvironment.Body(url, $"\"{field}\":\"a")[..^1]);
            byte[] bytes = [.. prefix, .. bad, .. "\"}"u8];
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await env.Client.PostAsync(RequestPath, content);
            await AssertError(response, 400, "VALIDATION_ERROR", fragment);
        }
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    [Test]
    [Arguments("\"data\":\"\\ud800\"")]
    [Arguments("\"user_agent\":\"a\\udc00b\"")]
    [Arguments("\"headers\":{\"X-A\":\"\\ud800\"}")]
    [Arguments("\"headers\":{\"X-\\ud800\":\"a\"}")]
    [Arguments("\"no\\udfff\":1")]
    public async Task Lone_surrogate_escape_is_400(string fields)
    {
        var (url, trace) = env.TracedEcho();
        var (status, body) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, fields));
        await AssertError(status, body, 400, "VALIDATION_ERROR", "not valid Unicode");
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    [Test]
    [Arguments("\"method\":5", "'method'")]
    [Arguments("\"method\":\"GE T\"", "'method'")]
    [Arguments("\"headers\":[]", "'headers'")]
    [Arguments("\"headers\":{\"X-A\":1}", "'headers.X-A'")]
    [Arguments("\"timeout\":\"5\"", "'timeout'")]
    [Arguments("\"timeout\":1.5", "'timeout'")]
    [Arguments("\"timeout\":0", "'timeout'")]
    [Arguments("\"timeout\":1e300", "'timeout'")]
    [Arguments("\"follow_redirects\":\"yes\"", "'follow_redirects'")]
    [Arguments("\"max_redirects\":101", "'max_redirects'")]
    [Arguments("\"retry_count\":-1", "'retry_count'")]
    [Arguments("\"form\":{\"a\":1}", "'form.a'")]
    [Arguments("\"response\":\"xml\"", "'response'")]
    [Arguments("\"mode\":1", "'mode'")]
    [Arguments("\"auth_method\":\"kerberos\"", "'auth_method'")]
    [Arguments("\"save_path\":\"../../etc/passwd\"", "'save_path'")]
    [Arguments("\"session_id\":\"a b\"", "'session_id'")]
    [Arguments("\"range\":\"bytes=0-1\"", "'range'")]
    [Arguments("\"data\":\"x\",\"json\":{}", "only one of")]
    public async Task Wrong_json_type_or_value_is_400_naming_the_field(string fields, string fragment)
    {
        var (url, trace) = env.TracedEcho();
        var (status, body) = await env.Client.PostJsonAsync(RequestPath, HostileEnvironment.Body(url, fields));
        await AssertError(status, body, 400, "VALIDATION_ERROR", fragment);
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    // ---- slow clients -------------------------------------------------------------------------------

    [Test]
    public async Task Slow_client_is_cut_off_while_others_are_served()
    {
        // Kestrel's RequestHeadersTimeout is 30 s: a client that drips its request head one byte a second is
        // closed after it, and meanwhile the sidecar serves everyone else. Bounded at 45 s whatever happens.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        using var slow = new TcpClient();
        await slow.ConnectAsync(IPAddress.Loopback, env.Sidecar.Port, bound.Token);
        var stream = slow.GetStream();
        await stream.WriteAsync("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"u8.ToArray(), bound.Token);
        var clock = Stopwatch.StartNew();
        var answer = ReadUntilClosedAsync(stream, bound.Token);

        var drip = Encoding.ASCII.GetBytes("X-Slow: " + new string('z', 100));
        var served = 0;
        var (url, _) = env.TracedEcho();
        for (var i = 0; !answer.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(40); i++)
        {
            try { await stream.WriteAsync(drip.AsMemory(i % drip.Length, 1), bound.Token); }
            catch (IOException) { break; }
            var (healthStatus, _) = await env.Client.GetJsonAsync("/health");
            await Assert.That(healthStatus).IsEqualTo(200);
            if (i % 5 == 0)
            {
                var (relayStatus, relay) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}");
                await Assert.That(relayStatus).IsEqualTo(200).Because(relay.ToString());
            }
            served++;
            await Task.WhenAny(answer, Task.Delay(1000, bound.Token));
        }
        var text = await answer.WaitAsync(TimeSpan.FromSeconds(3), bound.Token);
        await Assert.That(clock.Elapsed).IsLessThan(TimeSpan.FromSeconds(40));
        await Assert.That(clock.Elapsed).IsGreaterThan(TimeSpan.FromSeconds(10)); // cut off by the timeout, not at once
        await Assert.That(served).IsGreaterThan(10);
        if (text.Length > 0) await Assert.That(text).StartsWith("HTTP/1.1 408");
    }

    [Test]
    public async Task Many_idle_half_open_connections_do_not_block_service()
    {
        var idle = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, env.Sidecar.Port);
                await client.GetStream().WriteAsync(i % 2 == 0 ? "GET /health HTTP/1.1\r\nHo"u8.ToArray() : "POST /api/v1/curl/request HTTP/1.1\r\nHost: x\r\nContent-Le"u8.ToArray());
                idle.Add(client);
            }
            var (url, trace) = env.TracedEcho();
            var (healthStatus, _) = await env.Client.GetJsonAsync("/health");
            await Assert.That(healthStatus).IsEqualTo(200);
            var (status, body) = await env.Client.GetJsonAsync($"{RequestPath}?url={Api.Q(url)}");
            await Assert.That(status).IsEqualTo(200).Because(body.ToString());
            await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(1);
        }
        finally
        {
            foreach (var client in idle) client.Dispose();
        }
    }

    [Test]
    public async Task Slow_request_body_is_a_408_never_a_500()
    {
        // Kestrel's MinRequestBodyDataRate (240 B/s after a 5 s grace) cuts off a body that drips in; the caller
        // must get a 4xx in the contract's shape (or just a closed connection), never a 500. Bounded at 30 s.
        var (url, trace) = env.TracedEcho();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var slow = new TcpClient();
        await slow.ConnectAsync(IPAddress.Loopback, env.Sidecar.Port, bound.Token);
        var stream = slow.GetStream();
        var body = HostileEnvironment.Body(url, "");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {RequestPath} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {body.Length + 1000}\r\n\r\n"), bound.Token);
        var answer = ReadUntilClosedAsync(stream, bound.Token);
        for (var i = 0; i < body.Length && !answer.IsCompleted; i++)
        {
            try { await stream.WriteAsync(Encoding.ASCII.GetBytes(body[i..(i + 1)]), bound.Token); }
            catch (IOException) { break; }
            await Task.WhenAny(answer, Task.Delay(1000, bound.Token));
        }
        var text = await answer;
        await Assert.That(text).DoesNotContain("500 Internal Server Error");
        if (text.Length > 0)
        {
            await Assert.That(text).StartsWith("HTTP/1.1 408");
            var bodyStart = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
            if (bodyStart < text.Length)
            {
                using var error = JsonDocument.Parse(text[bodyStart..]);
                await AssertErrorShape(text[bodyStart..], error.RootElement.GetProperty("error").GetString()!);
            }
        }
        await Assert.That(env.Upstream.Trace(trace).Hits).IsEqualTo(0);
    }

    [Test]
    public async Task Body_cut_short_by_the_client_is_not_an_error_of_the_service()
    {
        // The client promises 100 bytes, sends one and goes away. Nobody is left to answer; the service must not
        // treat it as its own failure (an error line with a stack trace per such request would flood the log).
        var before = env.Sidecar.Output.Split('\n').Count(l => l.Contains(" fail: ", StringComparison.Ordinal));
        var clients = new List<TcpClient>();
        for (var i = 0; i < 5; i++)
        {
            var client = new TcpClient();
            clients.Add(client);
            await client.ConnectAsync(IPAddress.Loopback, env.Sidecar.Port);
            await client.GetStream().WriteAsync("POST /api/v1/curl/request HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"u8.ToArray());
        }
        // Each request is in the handler now (reading its body). Going away ends them; the server has finished
        // with a request (and logged whatever it logs) when it closes that connection: wait for each close.
        var pending = clients.Select(c => (Client: c, Stream: c.GetStream())).ToList();
        foreach (var c in clients) c.Client.Shutdown(SocketShutdown.Send);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        foreach (var (client, stream) in pending)
        {
            var buffer = new byte[4096];
            using var cts = new CancellationTokenSource(deadline - DateTime.UtcNow);
            try { while (await stream.ReadAsync(buffer, cts.Token) > 0) { } } // until the server closes
            catch (IOException) { }
            catch (OperationCanceledException) { }
            client.Dispose();
        }
        var (status, _) = await env.Client.GetJsonAsync("/health");
        await Assert.That(status).IsEqualTo(200);
        var after = env.Sidecar.Output.Split('\n').Where(l => l.Contains(" fail: ", StringComparison.Ordinal)).ToList();
        await Assert.That(after.Count).IsEqualTo(before).Because(after.Count == 0 ? "" : after[^1][..Math.Min(after[^1].Length, 300)]);
    }

    // ---- afterwards -----------------------------------------------------------------------------------

    [Test]
    [DependsOn(nameof(Malformed_json_is_400), ProceedOnFailure = true)]
    [DependsOn(nameof(Nesting_deeper_than_max_json_depth_is_400_and_at_the_limit_is_fine), ProceedOnFailure = true)]
    [DependsOn(nameof(Unknown_field_is_400_naming_it), ProceedOnFailure = true)]
    [DependsOn(nameof(Rejected_field_with_a_value_is_400_naming_it_and_null_is_accepted), ProceedOnFailure = true)]
    [DependsOn(nameof(Header_injection_in_post_is_400), ProceedOnFailure = true)]
    [DependsOn(nameof(Header_injection_through_the_bridge_is_400), ProceedOnFailure = true)]
    [DependsOn(nameof(Too_many_headers_is_400_through_every_way_in), ProceedOnFailure = true)]
    [DependsOn(nameof(Huge_header_value_is_400_through_every_way_in), ProceedOnFailure = true)]
    [DependsOn(nameof(Huge_query_string_is_414_and_kestrel_limits_answer_4xx), ProceedOnFailure = true)]
    [DependsOn(nameof(Oversized_url_is_400_through_both_doors), ProceedOnFailure = true)]
    [DependsOn(nameof(Body_over_the_limit_is_413_declared_chunked_or_lying), ProceedOnFailure = true)]
    [DependsOn(nameof(Invalid_base64_is_400), ProceedOnFailure = true)]
    [DependsOn(nameof(Invalid_utf8_in_the_post_body_is_400), ProceedOnFailure = true)]
    [DependsOn(nameof(Lone_surrogate_escape_is_400), ProceedOnFailure = true)]
    [DependsOn(nameof(Wrong_json_type_or_value_is_400_naming_the_field), ProceedOnFailure = true)]
    [DependsOn(nameof(Slow_client_is_cut_off_while_others_are_served), ProceedOnFailure = true)]
    [DependsOn(nameof(Many_idle_half_open_connections_do_not_block_service), ProceedOnFailure = true)]
    [DependsOn(nameof(Slow_request_body_is_a_408_never_a_500), ProceedOnFailure = true)]
    [DependsOn(nameof(Body_cut_short_by_the_client_is_not_an_error_of_the_service), ProceedOnFailure = true)]
    public async Task Process_is_healthy_and_small_after_the_suite()
    {
        await Assert.That(env.Sidecar.HasExited).IsFalse();
        var (status, health) = await env.Client.GetJsonAsync("/health");
        await Assert.That(status).IsEqualTo(200);
        await Assert.That(health.GetProperty("status").GetString()).IsEqualTo("ok");
        var (rss, peak) = env.Sidecar.Memory();
        await Assert.That(rss).IsLessThan(150L * 1024 * 1024).Because($"RSS {rss / 1048576} MiB, peak {peak / 1048576} MiB");
        // No input of the suite reached the catch-all: an unhandled exception is a 500 (or, when the client is
        // gone, an error line with a stack trace per hostile request: a log-flooding lever).
        var failures = env.Sidecar.Output.Split('\n').Where(l => l.Contains(" fail: ", StringComparison.Ordinal)).ToList();
        await Assert.That(failures.Count).IsEqualTo(0)
            .Because(failures.Count == 0 ? "" : $"{failures.Count} error lines, the first: {failures[0][..Math.Min(failures[0].Length, 400)]}");
        var metrics = await env.Client.GetStringAsync("/metrics");
        await Assert.That(metrics).Contains("process_resident_memory_bytes");
    }

    // ---- helpers --------------------------------------------------------------------------------------

    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    private static async Task<string> ReadUntilClosedAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0) received.Write(buffer, 0, read);
        }
        catch (IOException) { }
        return Encoding.Latin1.GetString(received.ToArray());
    }

    private static async Task AssertError(HttpResponseMessage response, int status, string code, string fragment)
    {
        var text = await response.Content.ReadAsStringAsync();
        await Assert.That((int)response.StatusCode).IsEqualTo(status).Because(text);
        await AssertErrorShape(text, code, fragment);
    }

    private static async Task AssertError(int actualStatus, JsonElement body, int status, string code, string fragment)
    {
        await Assert.That(actualStatus).IsEqualTo(status).Because(body.ToString());
        await AssertErrorShape(body.GetRawText(), code, fragment);
    }

    /// <summary>{"error": code, "code": code, "message": "..."} (decisions D2), the message holding <paramref name="fragment"/>.</summary>
    private static async Task AssertErrorShape(string text, string code, string fragment = "")
    {
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        await Assert.That(root.GetProperty("error").GetString()).IsEqualTo(code).Because(text);
        await Assert.That(root.GetProperty("code").GetString()).IsEqualTo(code).Because(text);
        await Assert.That(root.GetProperty("message").GetString()!).Contains(fragment).Because(text);
    }
}
