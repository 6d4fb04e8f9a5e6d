using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace MIC.Streaming.Client;

/// <summary>Why <see cref="HedgedRequest"/> started another attempt.</summary>
public enum ExtraAttemptReason
{
    /// <summary>The attempts in flight had not answered within the hedge delay.</summary>
    Slow,

    /// <summary>An attempt failed with an error another attempt can fix.</summary>
    Failed,
}

/// <summary>
/// One request made of several attempts of the same idempotent call, the first answer winning
/// ("hedged requests", Dean and Barroso, The Tail at Scale). Another attempt starts when the ones in
/// flight have not answered within <c>hedgeAfter</c>, or as soon as one fails with a transient
/// error; at most <c>maxAttempts</c> in all, within <c>budget</c>.
/// <para>
/// Why not retry one attempt after another: an Orleans client does not fail a call whose gateway
/// was killed while the call was in flight; the call waits for its whole response timeout. A
/// sequential retry pays that timeout before it even starts, and a second slow attempt then
/// overruns the caller's deadline. A hedge goes out while the first call still waits (an unordered
/// call, such as one to a stateless worker, takes the next live gateway), so the wait costs
/// <c>hedgeAfter</c>, not the timeout. Attempts that lose keep running; their results and errors
/// are dropped.
/// </para>
/// </summary>
public static class HedgedRequest
{
    public static async Task<T> RunAsync<T>(
        Func<int, Task<T>> attempt,
        Func<Exception, bool> isTransient,
        TimeSpan hedgeAfter,
        int maxAttempts,
        TimeSpan budget,
        Action<int, ExtraAttemptReason, Exception?>? onExtraAttempt = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(isTransient);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(hedgeAfter, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(budget, TimeSpan.Zero);

        using var overall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        overall.CancelAfter(budget);
        var outOfTime = Task.Delay(Timeout.Infinite, overall.Token);
        var running = new List<Task<T>>(maxAttempts);
        var started = 0;
        var lastStart = Stopwatch.StartNew();
        Exception? lastError = null;

        void Start()
        {
            started++;
            Task<T> task;
            try
            {
                task = attempt(started);
            }
            catch (Exception ex)
            {
                task = Task.FromException<T>(ex);
            }

            // A losing attempt may fail after the request returned: observe it so it is not reported unobserved.
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            running.Add(task);
            lastStart.Restart();
        }

        Start();
        while (true)
        {
            var waits = new List<Task>(running.Count + 2);
            waits.AddRange(running);
            waits.Add(outOfTime);
            Task? hedge = null;
            if (started < maxAttempts && running.Count > 0)
            {
                var due = hedgeAfter - lastStart.Elapsed;
                hedge = due > TimeSpan.Zero ? Task.Delay(due, overall.Token) : Task.CompletedTask;
                waits.Add(hedge);
            }

            var done = await Task.WhenAny(waits).ConfigureAwait(false);
            if (done == outOfTime)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ExceptionDispatchInfo.Throw(lastError ?? new TimeoutException($"No answer within {budget.TotalMilliseconds:F0} ms ({started} attempt(s))."));
            }

            if (done == hedge)
            {
                if (!overall.IsCancellationRequested)
                {
                    onExtraAttempt?.Invoke(started + 1, ExtraAttemptReason.Slow, null);
                    Start();
                }

                continue;
            }

            var finished = (Task<T>)done;
            running.Remove(finished);
            if (finished.IsCompletedSuccessfully)
            {
                return finished.Result;
            }

            var error = finished.Exception?.GetBaseException() ?? new TaskCanceledException(finished);
            if (!isTransient(error))
            {
                await finished.ConfigureAwait(false); // rethrows the attempt's own exception, stack intact
            }

            lastError = error;
            if (started < maxAttempts)
            {
                // A short pause before replacing a failed attempt: a gateway list that is being refreshed
                // gets a moment, and a burst of failures does not become a burst of attempts.
                await Task.WhenAny(Task.Delay(TimeSpan.FromMilliseconds(25 * started), overall.Token)).ConfigureAwait(false);
                if (!overall.IsCancellationRequested)
                {
                    onExtraAttempt?.Invoke(started + 1, ExtraAttemptReason.Failed, error);
                    Start();
                }
            }
            else if (running.Count == 0)
            {
                ExceptionDispatchInfo.Throw(error);
            }
        }
    }
}
