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
                if (done == doneBefore)
                {
                    throw new TimeoutException($"{tasks.Count - done} of {tasks.Count} calls made no progress for {stall.TotalSeconds:0.#} s.");
                }

                doneBefore = done;
            }
        }
    }
}
