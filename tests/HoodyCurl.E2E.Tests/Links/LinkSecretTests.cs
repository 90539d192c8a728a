// Issue 14 acceptance: a link to an upstream that requires a bearer token works when opened with no
// credentials, and afterwards no answer, log line or metric of the sidecar holds the link's token or
// the upstream secret. The database keeps only the token's SHA-256.
using System.Security.Cryptography;
using System.Text;
using HoodyCurl.E2E.Tests.Harness;
using HoodyCurl.TestUpstream;

namespace HoodyCurl.E2E.Tests.Links;

public class LinkSecretTests
{
    [Test]
    public async Task A_bearer_protected_upstream_opens_without_credentials_and_neither_token_nor_secret_leaks()
    {
        var secret = "UPSTREAMSECRET" + Guid.NewGuid().ToString("N");
        var hex = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
        await using var upstream = await TestUpstreamServer.StartAsync();
        await using var sidecar = await Sidecar.StartAsync("--log-level", "debug");
        var client = sidecar.Client;
        using var anonymous = LinksApi.Anonymous();

        // Without the secret the upstream refuses: the link is what carries it.
        var (_, direct) = await client.GetJsonAsync($"/api/v1/curl/request?url={Api.Q(upstream.Url($"/bearer-sha256/{hex}"))}");
        await Assert.That(direct.GetProperty("status_code").GetInt32()).IsEqualTo(401);
        var (id, path, created) = await LinksApi.CreateAsync(client, LinksApi.Body(upstream.Url($"/bearer-sha256/{hex}"),
            $",\"headers\":{{\"Authorization\":\"Bearer {secret}\",\"Accept\":\"application/json\"}}", ",\"name\":\"shared report\""));
        await Assert.That(path).StartsWith("/l/");
        var token = path[3..];
        await Assert.That(token.Length).IsEqualTo(22);
        await Assert.That(created.ToString()).DoesNotContain(secret);
        await Assert.That(created.GetProperty("request").GetProperty("headers").GetProperty("Authorization").GetString()).IsEqualTo("***");

        var answers = new List<string>();
        using (var opened = await anonymous.GetAsync(sidecar.BaseUrl + path))
        {
            var body = await opened.Content.ReadAsStringAsync();
            await Assert.That((int)opened.StatusCode).IsEqualTo(200).Because(body);
            await Assert.That(body).Contains("\"authenticated\":true");
            answers.Add(body + opened.Headers + opened.Content.Headers);
        }
        // Everything the API answers afterwards: the record, the list, the history, refusals, metrics.
        foreach (var later in new[]
                 {
                     $"{LinksApi.Path}/{id}", LinksApi.Path, $"{LinksApi.Path}/{id}/history", $"{LinksApi.Path}?limit=1",
                     "/api/v1/curl/jobs", "/l/" + token + "/extra", "/l/" + token.ToLowerInvariant(), "/metrics", "/health",
                 })
        {
            using var response = await client.GetAsync(later);
            answers.Add(await response.Content.ReadAsStringAsync() + response.Headers + response.Content.Headers);
        }
        using (var wrongMethod = await anonymous.PostAsync(sidecar.BaseUrl + path, Api.Json("{}")))
        {
            await Assert.That((int)wrongMethod.StatusCode).IsEqualTo(405);
            answers.Add(await wrongMethod.Content.ReadAsStringAsync() + wrongMethod.Headers + wrongMethod.Content.Headers);
        }
        using (var revoke = await client.DeleteAsync($"{LinksApi.Path}/{id}"))
            answers.Add(await revoke.Content.ReadAsStringAsync());
        using (var revoked = await anonymous.GetAsync(sidecar.BaseUrl + path))
        {
            await Assert.That((int)revoked.StatusCode).IsEqualTo(404);
            answers.Add(await revoked.Content.ReadAsStringAsync() + revoked.Headers);
        }
        var history = await LinksApi.FinishedHistoryAsync(client, id);
        await Assert.That(history.Count).IsEqualTo(1);
        await Assert.That(history[0].GetProperty("status").GetInt32()).IsEqualTo(200);

        await sidecar.StopAsync(); // the whole log, flushed: the process has exited and its output is drained
        var output = sidecar.Output;
        await Assert.That(output).Contains($"link {id} opened");
        foreach (var text in answers.Append(output))
        {
            await Assert.That(text).DoesNotContain(token);
            await Assert.That(text).DoesNotContain(secret);
        }
        // The database holds the token's hash, never the token.
        foreach (var file in Directory.GetFiles(sidecar.StorageDir, "hoody-curl.db*"))
            await Assert.That(Encoding.ASCII.GetString(await File.ReadAllBytesAsync(file))).DoesNotContain(token);
    }
}
