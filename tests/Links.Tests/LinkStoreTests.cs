// The link store on a real SQLite file: lookups by token, claims that respect max_uses, expiry and
// revocation, the history bound, and what a crash (a reopened store) leaves.
using HoodyCurl.Kernel.Db;
using HoodyCurl.Requests.Model;

namespace HoodyCurl.Links.Tests;

public class LinkStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static (LinkRecord Link, string Token) NewLink(LinkStore store, long? maxUses = null, DateTimeOffset? expiresAt = null)
    {
        var token = LinkToken.New();
        var link = new LinkRecord
        {
            Id = Guid.CreateVersion7().ToString(),
            Name = "n",
            CreatedAt = T0,
            ExpiresAt = expiresAt,
            MaxUses = maxUses,
            Methods = ["GET", "POST"],
            Params = [new LinkParam("q", ParamLocation.Query, true, "^[a-z]+$")],
            Request = new CurlRequest { Url = "https://a.example/x", BearerToken = "kept", Mode = ExecutionMode.Async },
        };
        store.Insert(link, LinkToken.Hash(token));
        return (link, token);
    }

    [Test]
    public async Task A_link_is_found_by_its_token_only_and_keeps_its_request_secrets()
    {
        using var dir = new TempDir();
        var store = new LinkStore(new Database(dir.Path));
        var (link, token) = NewLink(store);
        var found = store.FindByToken(token);
        await Assert.That(found).IsNotNull();
        await Assert.That(found!.Id).IsEqualTo(link.Id);
        await Assert.That(found.Request.BearerToken).IsEqualTo("kept");
        await Assert.That(found.Mode).IsEqualTo(ExecutionMode.Async);
        await Assert.That(found.Params[0]).IsEqualTo(link.Params[0]);
        await Assert.That(found.Methods).IsEquivalentTo(new[] { "GET", "POST" });
        await Assert.That(store.FindByToken(LinkToken.New())).IsNull();
        await Assert.That(store.Revoke(link.Id, T0)).IsTrue();
        await Assert.That(store.FindByToken(token)).IsNull();
        await Assert.That(store.Get(link.Id)!.RevokedAt).IsEqualTo(T0);
    }

    [Test]
    public async Task Claims_stop_at_max_uses_at_expiry_and_at_revocation()
    {
        using var dir = new TempDir();
        var store = new LinkStore(new Database(dir.Path));
        var (three, _) = NewLink(store, maxUses: 3);
        for (var i = 0; i < 3; i++) await Assert.That(store.Claim(three.Id, T0, "127.0.0.1", "GET", 100)).IsNotNull();
        await Assert.That(store.Claim(three.Id, T0, "127.0.0.1", "GET", 100)).IsNull();
        await Assert.That(store.Get(three.Id)!.UseCount).IsEqualTo(3);
        await Assert.That(store.Get(three.Id)!.State(T0)).IsEqualTo("used_up");

        var (expiring, _) = NewLink(store, expiresAt: T0.AddSeconds(10));
        await Assert.That(store.Claim(expiring.Id, T0.AddSeconds(9), null, "GET", 100)).IsNotNull();
        await Assert.That(store.Claim(expiring.Id, T0.AddSeconds(10), null, "GET", 100)).IsNull();

        var (revoked, _) = NewLink(store);
        store.Revoke(revoked.Id, T0);
        await Assert.That(store.Claim(revoked.Id, T0, null, "GET", 100)).IsNull();
    }

    [Test]
    public async Task Concurrent_claims_never_exceed_max_uses()
    {
        using var dir = new TempDir();
        var store = new LinkStore(new Database(dir.Path));
        var (link, _) = NewLink(store, maxUses: 5);
        var claims = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() => store.Claim(link.Id, T0, null, "GET", 100))));
        await Assert.That(claims.Count(c => c is not null)).IsEqualTo(5);
        await Assert.That(store.History(link.Id, 0, null).Total).IsEqualTo(5);
    }

    [Test]
    public async Task History_keeps_the_newest_entries_and_a_reopened_store_marks_unfinished_ones_interrupted()
    {
        using var dir = new TempDir();
        var store = new LinkStore(new Database(dir.Path));
        var (link, _) = NewLink(store);
        var ids = new List<long>();
        for (var i = 0; i < 7; i++)
        {
            var id = store.Claim(link.Id, T0.AddSeconds(i), "10.1.2.3", "POST", historyMax: 4)!.Value;
            ids.Add(id);
            if (i < 6) store.Finish(id, 200 + i, i % 2 == 0 ? "job-" + i : null, 100 + i, 5, 7, null);
        }
        var history = store.History(link.Id, 0, null);
        await Assert.That(history.Items.Select(e => e.Id).ToArray()).IsEquivalentTo(ids.Skip(3).ToArray());
        var first = history.Items[0];
        await Assert.That(first.Status).IsEqualTo(203);
        await Assert.That(first.Caller).IsEqualTo("10.1.2.3");
        await Assert.That(first.Method).IsEqualTo("POST");
        await Assert.That(first.Bytes).IsEqualTo(103);
        await Assert.That(first.RequestBytes).IsEqualTo(5);
        await Assert.That(history.Items[1].JobId).IsEqualTo("job-4");
        await Assert.That(store.History(link.Id, ids[5], null).Items.Single().Id).IsEqualTo(ids[6]);
        await Assert.That(store.History(link.Id, 0, 2).Items.Count).IsEqualTo(2);
        await Assert.That(store.History(link.Id, 0, 2).Total).IsEqualTo(4);

        // The last opening never finished (a crash): the next store marks it, its use stays counted.
        Database.ClearPools();
        var reopened = new LinkStore(new Database(dir.Path));
        var last = reopened.History(link.Id, ids[5], null).Items.Single();
        await Assert.That(last.Status).IsNull();
        await Assert.That(last.Error).IsEqualTo(LinkStore.Interrupted);
        await Assert.That(reopened.Get(link.Id)!.UseCount).IsEqualTo(7);
    }
}
