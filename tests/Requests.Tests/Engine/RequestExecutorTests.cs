// The RequestExecutor over real parts: the Sessions and Requests modules wired from real flags, real
// libcurl, a real SQLite file and the test upstream on loopback. It checks that the request's fields
// reach the wire as libcurl options (method, headers, user agent, bearer token, JSON body, timeout,
// max_filesize, retries) and that each kind of failure maps to the contract's error (SSRF, validation,
// connect failure, timeout, size limit, cancellation).
using System.CommandLine;
using System.IO.Pipelines;
using System.Text.Json;
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;
using HoodyCurl.Kernel.Errors;
using HoodyCurl.Kernel.Metrics;
using HoodyCurl.Requests.Engine;
using HoodyCurl.Requests.Model;
using HoodyCurl.Sessions;
using HoodyCurl.TestUpstream;
using Microsoft.Extensions.DependencyInjection;

namespace HoodyCurl.Requests.Tests.Engine;

public class RequestExecutorTests
{
    private static ExecutionOptions Sync(Action<int>? onAttempt = null) => new() { RequestId = Guid.NewGuid().ToString(), OnAttempt = onAttempt };

    private static async Task<byte[]> ReadAllAsync(PipeReader reader)
    {
        using var buffer = new MemoryStream();
        await reader.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static async Task<ApiError> Refused(Func<Task> send)
    {
        var e = await Assert.That(send).Throws<ApiErrorException>();
        return e!.Error;
    }

    [Test]
    public async Task Request_fields_reach_the_wire_as_libcurl_options()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var request = new CurlRequest
        {
            Url = upstream.Url("/anything/x?q=1"),
            Method = "PATCH",
            Headers = [new HeaderEntry("X-Trace", "t-1"), new HeaderEntry("Accept", "text/plain")],
            UserAgent = "agent/7",
            BearerToken = "tok-1",
            Json = "{\"k\":[1,2]}",
            Referer = "http://ref.example/",
        };
        await using var response = await engine.Executor.SendAsync(request, Sync(), CancellationToken.None);
        await Assert.That(response.StatusCode).IsEqualTo(200);
        using var echo = JsonDocument.Parse(await ReadAllAsync(response.Body));
        var root = echo.RootElement;
        var headers = root.GetProperty("headers");
        await Assert.That(root.GetProperty("method").GetString()).IsEqualTo("PATCH");
        await Assert.That(root.GetProperty("query").GetProperty("q").GetString()).IsEqualTo("1");
        await Assert.That(headers.GetProperty("x-trace").GetString()).IsEqualTo("t-1");
        await Assert.That(headers.GetProperty("accept").GetString()).IsEqualTo("text/plain");
        await Assert.That(headers.GetProperty("user-agent").GetString()).IsEqualTo("agent/7");
        await Assert.That(headers.GetProperty("authorization").GetString()).IsEqualTo("Bearer tok-1");
        await Assert.That(headers.GetProperty("referer").GetString()).IsEqualTo("http://ref.example/");
        await Assert.That(headers.GetProperty("content-type").GetString()).StartsWith("application/json");
        await Assert.That(root.GetProperty("body").GetString()).IsEqualTo("{\"k\":[1,2]}");
        var result = await response.Completion;
        await Assert.That(result.Ok).IsTrue();
        await Assert.That(response.Attempts).IsEqualTo(1);
    }

    [Test]
    public async Task Defaults_apply_when_the_request_gives_none()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        await using var response = await engine.Executor.SendAsync(new CurlRequest { Url = upstream.Url("/anything"), Data = "a=b" }, Sync(), CancellationToken.None);
        using var echo = JsonDocument.Parse(await ReadAllAsync(response.Body));
        // A body without a method is a POST; the user agent is the sidecar's own.
        await Assert.That(echo.RootElement.GetProperty("method").GetString()).IsEqualTo("POST");
        await Assert.That(echo.RootElement.GetProperty("headers").GetProperty("user-agent").GetString()).IsEqualTo("hoody-curl/" + RequestsOptions.Version);
        await Assert.That(echo.RootElement.GetProperty("body").GetString()).IsEqualTo("a=b");
    }

    [Test]
    public async Task A_denied_address_is_403_ssrf_blocked_and_counted()
    {
        await using var engine = EngineHarness.Start();
        var error = await Refused(() => engine.Executor.SendAsync(new CurlRequest { Url = "http://10.1.2.3/" }, Sync(), CancellationToken.None));
        await Assert.That(error.Status).IsEqualTo(403);
        await Assert.That(error.Code).IsEqualTo(ErrorCodes.SsrfBlocked);
        await Assert.That(engine.Executor.Precheck(new CurlRequest { Url = "http://169.254.169.254/latest" })!.Code).IsEqualTo(ErrorCodes.SsrfBlocked);
        await Assert.That(engine.Metrics.Render()).Contains("hoody_curl_requests_total{door=\"rest\",outcome=\"ssrf_denied\"} 1");
    }

    [Test]
    public async Task A_framing_header_from_any_door_is_400_before_a_transfer()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var request = new CurlRequest { Url = upstream.Url("/anything"), Headers = [new HeaderEntry("Content-Length", "5")] };
        var error = await Refused(() => engine.Executor.SendAsync(request, Sync(), CancellationToken.None));
        await Assert.That(error.Status).IsEqualTo(400);
        await Assert.That(error.Code).IsEqualTo(ErrorCodes.Validation);
        await Assert.That(error.Message).Contains("Content-Length");
    }

    [Test]
    public async Task A_refused_connection_is_502_after_every_retry()
    {
        await using var engine = EngineHarness.Start();
        var port = FreePort();
        var attempts = new List<int>();
        var request = new CurlRequest { Url = $"http://127.0.0.1:{port}/", RetryCount = 2, RetryDelay = 0 };
        var error = await Refused(() => engine.Executor.SendAsync(request, Sync(a => { lock (attempts) attempts.Add(a); }), CancellationToken.None));
        await Assert.That(error.Status).IsEqualTo(502);
        await Assert.That(error.Code).IsEqualTo(ErrorCodes.UpstreamError);
        await Assert.That(attempts).IsEquivalentTo(new[] { 1, 2, 3 });
        await Assert.That(engine.Metrics.Render()).Contains("hoody_curl_request_retries_total 2");
    }

    [Test]
    public async Task A_transfer_over_its_timeout_is_504_upstream_timeout()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var request = new CurlRequest { Url = upstream.Url("/delay/5000"), Timeout = 1 };
        var error = await Refused(() => engine.Executor.SendAsync(request, Sync(), CancellationToken.None));
        await Assert.That(error.Status).IsEqualTo(504);
        await Assert.That(error.Code).IsEqualTo(ErrorCodes.UpstreamTimeout);
    }

    [Test]
    public async Task A_body_over_max_filesize_is_502_response_too_large()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        var request = new CurlRequest { Url = upstream.Url("/bytes/100000"), MaxFilesize = 1000 };
        ApiError? error;
        try
        {
            await using var response = await engine.Executor.SendAsync(request, Sync(), CancellationToken.None);
            await ReadAllAsync(response.Body);
            error = (await response.Completion).Error;
        }
        catch (ApiErrorException e)
        {
            error = e.Error;
        }
        await Assert.That(error).IsNotNull();
        await Assert.That(error!.Status).IsEqualTo(502);
        await Assert.That(error.Code).IsEqualTo(ErrorCodes.ResponseTooLarge);
    }

    [Test]
    public async Task Cancelling_before_the_head_ends_the_call()
    {
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var engine = EngineHarness.Start();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var request = new CurlRequest { Url = upstream.Url("/delay/10000") };
        var started = System.Diagnostics.Stopwatch.StartNew();
        await Assert.That(async () => { await using var _ = await engine.Executor.SendAsync(request, Sync(), cancel.Token); }).Throws<OperationCanceledException>();
        await Assert.That(started.Elapsed).IsLessThan(TimeSpan.FromSeconds(8)); // not the upstream's 10 s
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
