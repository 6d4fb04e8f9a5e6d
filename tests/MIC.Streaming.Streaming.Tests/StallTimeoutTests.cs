using MIC.Streaming.Ingestion;
using Microsoft.Extensions.Time.Testing;

namespace MIC.Streaming.Streaming.Tests;

public sealed class StallTimeoutTests
{
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task ManyCalls_ThatKeepCompleting_OutlastTheTimeout()
    {
        var time = new FakeTimeProvider();
        var sources = Enumerable.Range(0, 4).Select(_ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var wait = StallTimeout.WhenAllAsync([.. sources.Select(s => s.Task)], Stall, time);

        // Three full stall periods pass, with one call completing in each: 15 s in all, 3× the timeout.
        for (var i = 0; i < 3; i++)
        {
            sources[i].SetResult(i);
            await AdvanceAsync(time, Stall);
            Assert.False(wait.IsCompleted);
        }

        sources[3].SetResult(3);
        var results = await wait;
        Assert.Equal(Enumerable.Range(0, 4), results);
    }

    [Fact]
    public async Task A_CallThatNeverCompletes_FailsTheWait_AfterOnePeriodWithoutProgress()
    {
        var time = new FakeTimeProvider();
        var slow = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stuck = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var wait = StallTimeout.WhenAllAsync([Task.FromResult(1), slow.Task, stuck.Task], Stall, time);

        slow.SetResult(2);
        await AdvanceAsync(time, Stall);  // progress in this period: keep waiting
        Assert.False(wait.IsCompleted);
        await AdvanceAsync(time, Stall);  // none: fail

        var error = await Assert.ThrowsAsync<TimeoutException>(() => wait);
        Assert.Contains("1 of 3 calls made no progress", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_FailedCall_FailsTheWait_WithItsOwnError()
    {
        var tasks = new[] { Task.FromResult(1), Task.FromException<int>(new InvalidOperationException("grain said no")) };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StallTimeout.WhenAllAsync(tasks, Stall, new FakeTimeProvider()));

        Assert.Equal("grain said no", error.Message);
    }

    [Fact]
    public async Task CallAll_KeepsAtMostMaxInFlight_AndReturnsResultsInInputOrder()
    {
        var inFlight = 0;
        var peak = 0;
        async Task<int> Call(int x)
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref peak, now);
            await Task.Yield();
            Interlocked.Decrement(ref inFlight);
            return x * 10;
        }

        var results = await StallTimeout.CallAllAsync(Enumerable.Range(0, 25).ToList(), Call, maxInFlight: 4, Stall);

        Assert.Equal(Enumerable.Range(0, 25).Select(x => x * 10), results);
        Assert.InRange(peak, 1, 4);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>Advances fake time, then lets the waiter's continuation run (it re-arms its timer).</summary>
    private static async Task AdvanceAsync(FakeTimeProvider time, TimeSpan by)
    {
        await Task.Delay(200);
        time.Advance(by);
        await Task.Delay(200);
    }
}
