using HoodyCurl.Kernel.Time;

namespace HoodyCurl.Kernel.Tests.Time;

public class PeriodicTimersTests
{
    [Test]
    public async Task A_wait_pending_when_the_token_is_cancelled_ends_with_false_and_no_exception()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        using var cts = new CancellationTokenSource();
        using var stop = timer.StopOn(cts.Token);
        var wait = timer.WaitForNextTickAsync().AsTask();
        await Assert.That(wait.IsCompleted).IsFalse();
        await cts.CancelAsync();
        await Assert.That(await WithinDeadline(wait)).IsFalse();
        await Assert.That(wait.Status).IsEqualTo(TaskStatus.RanToCompletion);
    }

    [Test]
    public async Task A_token_already_cancelled_stops_the_timer_at_once()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        using var stop = timer.StopOn(new CancellationToken(canceled: true));
        await Assert.That(await WithinDeadline(timer.WaitForNextTickAsync().AsTask())).IsFalse();
    }

    [Test]
    public async Task Ticks_still_come_while_the_token_is_not_cancelled()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        using var cts = new CancellationTokenSource();
        using var stop = timer.StopOn(cts.Token);
        await Assert.That(await WithinDeadline(timer.WaitForNextTickAsync().AsTask())).IsTrue();
    }

    /// <summary>The wait's result, failing the test if it has not completed within 10 s.</summary>
    private static async Task<bool> WithinDeadline(Task<bool> wait)
    {
        var finished = await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(10)));
        await Assert.That(finished).IsSameReferenceAs(wait).Because("the wait did not complete within 10 s");
        return await wait;
    }
}
