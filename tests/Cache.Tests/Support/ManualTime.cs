// A clock the test moves by hand (freshness, expiry) instead of sleeping.
namespace HoodyCurl.Cache.Tests.Support;

internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
