using MIC.Streaming.Client;

namespace MIC.Streaming.Streaming.Tests;

/// <summary>
/// The Orleans client's candidate requests (<see cref="CandidatesClient"/>) as <see cref="HedgedRequest"/>
/// runs them. A call stuck on a killed gateway is modelled by a task that never completes: the
/// Orleans client would end it only at its response timeout, so a client that retries one attempt
/// after another waits that long before it asks anyone else.
/// </summary>
public sealed class HedgedRequestTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_Call_Stuck_On_A_Dead_Gateway_Is_Answered_By_A_Hedge()
    {
        var stuck = new TaskCompletionSource<string>(); // never completes, like a call whose gateway was killed
        var extra = new List<(int Attempt, ExtraAttemptReason Reason)>();
        var answer = await HedgedRequest.RunAsync(
            attempt => attempt == 1 ? stuck.Task : Task.FromResult($"attempt {attempt}"),
            CandidatesClient.IsTransient, TimeSpan.FromMilliseconds(50), maxAttempts: 4, Generous,
            (attempt, reason, _) => extra.Add((attempt, reason))).WaitAsync(Generous);

        Assert.Equal("attempt 2", answer);
        Assert.Equal([(2, ExtraAttemptReason.Slow)], extra);
    }

    [Fact]
    public async Task A_Transient_Failure_Starts_The_Next_Attempt_At_Once()
    {
        var extra = new List<(int Attempt, ExtraAttemptReason Reason, Exception? Error)>();
        var answer = await HedgedRequest.RunAsync(
            attempt => attempt == 1 ? Task.FromException<string>(new TimeoutException("gateway gone")) : Task.FromResult("ok"),
            CandidatesClient.IsTransient, hedgeAfter: Generous, maxAttempts: 4, Generous,
            (attempt, reason, error) => extra.Add((attempt, reason, error))).WaitAsync(Generous);

        Assert.Equal("ok", answer);
        var (number, why, cause) = Assert.Single(extra);
        Assert.Equal((2, ExtraAttemptReason.Failed), (number, why));
        Assert.IsType<TimeoutException>(cause);
    }

    [Fact]
    public async Task A_Slow_First_Answer_Still_Wins_Over_A_Later_Hedge()
    {
        var first = new TaskCompletionSource<string>();
        var second = new TaskCompletionSource<string>();
        var answer = await HedgedRequest.RunAsync(
            attempt =>
            {
                if (attempt == 1)
                {
                    return first.Task;
                }

                first.SetResult("first"); // the first attempt answers just after the hedge went out
                return second.Task;
            },
            CandidatesClient.IsTransient, TimeSpan.FromMilliseconds(20), maxAttempts: 2, Generous).WaitAsync(Generous);

        Assert.Equal("first", answer);
        second.SetException(new TimeoutException("late")); // a losing attempt failing afterwards is dropped
    }

    [Fact]
    public async Task An_Error_Another_Attempt_Cannot_Fix_Is_Thrown_Without_Another_Attempt()
    {
        var attempts = 0;
        var error = await Assert.ThrowsAsync<ArgumentException>(() => HedgedRequest.RunAsync<string>(
            _ =>
            {
                attempts++;
                return Task.FromException<string>(new ArgumentException("bad user id"));
            },
            CandidatesClient.IsTransient, TimeSpan.FromMilliseconds(50), maxAttempts: 4, Generous).WaitAsync(Generous));

        Assert.Equal("bad user id", error.Message);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task When_Every_Attempt_Fails_The_Last_Error_Is_Thrown_After_MaxAttempts()
    {
        var attempts = 0;
        var error = await Assert.ThrowsAsync<TimeoutException>(() => HedgedRequest.RunAsync<string>(
            _ => Task.FromException<string>(new TimeoutException($"attempt {++attempts}")),
            CandidatesClient.IsTransient, Generous, maxAttempts: 3, Generous).WaitAsync(Generous));

        Assert.Equal(3, attempts);
        Assert.Equal("attempt 3", error.Message);
    }

    [Fact]
    public async Task When_Nothing_Answers_The_Budget_Ends_The_Request()
    {
        var attempts = 0;
        var error = await Assert.ThrowsAsync<TimeoutException>(() => HedgedRequest.RunAsync(
            _ =>
            {
                attempts++;
                return new TaskCompletionSource<string>().Task;
            },
            CandidatesClient.IsTransient, TimeSpan.FromMilliseconds(20), maxAttempts: 3, TimeSpan.FromSeconds(1)).WaitAsync(Generous));

        Assert.Equal(3, attempts); // hedges stop at MaxAttempts, the budget ends the wait
        Assert.Contains("3 attempt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Callers_Cancellation_Ends_The_Request()
    {
        using var cancel = new CancellationTokenSource();
        var run = HedgedRequest.RunAsync(
            _ => new TaskCompletionSource<string>().Task,
            CandidatesClient.IsTransient, Generous, maxAttempts: 2, Generous, cancellationToken: cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Generous));
    }

    [Theory]
    [InlineData("00:00:00.005", "Mic:HedgeAfter must be 10 ms or more")]
    [InlineData("00:00:01", "Mic:HedgeAfter must be 10 ms or more and at most ResponseTimeout (got 00:00:01)")]
    public void A_Hedge_Delay_Outside_Its_Range_Is_Refused_Naming_The_Key(string hedgeAfter, string expected)
    {
        var options = new MicClientOptions { Redis = "127.0.0.1:6379", HedgeAfter = TimeSpan.Parse(hedgeAfter, System.Globalization.CultureInfo.InvariantCulture) };

        Assert.Contains(options.Validate(), problem => problem.Contains(expected, StringComparison.Ordinal));
        Assert.Empty(new MicClientOptions { Redis = "127.0.0.1:6379" }.Validate());
    }
}
