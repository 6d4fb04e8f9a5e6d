namespace MIC.Streaming.Ingestion;

/// <summary>
/// Awaiting many grain calls at once under a timeout that means "stalled", not "large": the wait
/// fails only when none of the outstanding calls completed for a whole period. A flush of 100k
/// cold item grains may take longer than <see cref="KafkaOptions.GrainCallTimeout"/> while every
/// call progresses; a dead silo's calls stop completing and fail the wait one period after the
/// healthy ones finished. (A fixed timeout over the whole set made large flushes rewind.)
/// </summary>
public static class StallTimeout
{
    public static async Task<T[]> WhenAllAsync<T>(IReadOnlyList<Task<T>> tasks, TimeSpan stall, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        time ??= TimeProvider.System;
        var all = Task.WhenAll(tasks);
        var doneBefore = 0;
        while (true)
        {
            try
            {
                return await all.WaitAsync(stall, time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                var done = tasks.Count(t => t.IsCompleted);
                if (done == tasks.Count)
                {
                    // Every call has completed; only the combined task's continuation has not run yet
                    // (a busy thread pool): that is not a stall.
                    return await all.ConfigureAwait(false);
                }

                if (done == doneBefore)
                {
                    throw new TimeoutException($"{tasks.Count - done} of {tasks.Count} calls made no progress for {stall.TotalSeconds:0.#} s.");
                }

                doneBefore = done;
            }
        }
    }

    /// <summary>
    /// Calls <paramref name="call"/> for every input, at most <paramref name="maxInFlight"/> at a time
    /// (in consecutive groups), each group awaited with the stall rule. Bounding what is in flight keeps
    /// each call's own latency under the runtime's response timeout: 100k cold item grains sent at
    /// once queued past Orleans' 10 s timeout although the silo was working through them.
    /// </summary>
    public static async Task<TOut[]> CallAllAsync<TIn, TOut>(IReadOnlyList<TIn> inputs, Func<TIn, Task<TOut>> call, int maxInFlight, TimeSpan stall, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        var results = new TOut[inputs.Count];
        for (var start = 0; start < inputs.Count; start += maxInFlight)
        {
            var count = Math.Min(maxInFlight, inputs.Count - start);
            var group = new Task<TOut>[count];
            for (var i = 0; i < count; i++)
            {
                group[i] = call(inputs[start + i]);
            }

            var done = await WhenAllAsync(group, stall, time).ConfigureAwait(false);
            done.CopyTo(results, start);
        }

        return results;
    }
}
