// A clock the test moves by hand (tombstone expiry, created_at dates) instead of sleeping.
namespace HoodyCurl.Storage.Tests.Support;

internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
