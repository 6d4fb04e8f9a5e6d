namespace MIC.Streaming.Grains;

/// <summary>Persisted state of <see cref="LogEpochGrain"/>: per partition, its epoch and the highest position ever committed in it.</summary>
[GenerateSerializer, Alias("mic.log-epoch-state.v1")]
public sealed class LogEpochState
{
    [Id(0)] public Dictionary<int, long> Epochs { get; set; } = [];

    [Id(1)] public Dictionary<int, long> HighestCommitted { get; set; } = [];
}

/// <summary>
/// One topic's partition epochs (see <see cref="ILogEpochGrain"/>). A Kafka log only grows, so a
/// partition whose high watermark is below a position this consumer group once committed is not
/// the same log: a new broker or a recreated topic. Its epoch goes up and the grains reset.
/// </summary>
public sealed class LogEpochGrain(
    [PersistentState("log-epochs", StorageNames.Registry)] IPersistentState<LogEpochState> state) : Grain, ILogEpochGrain
{
    public async Task<PartitionEpoch[]> ResolveAsync(PartitionOffset[] highWatermarks)
    {
        ArgumentNullException.ThrowIfNull(highWatermarks);
        var s = state.State;
        var result = new PartitionEpoch[highWatermarks.Length];
        var changed = false;
        for (var i = 0; i < highWatermarks.Length; i++)
        {
            var (partition, end) = highWatermarks[i];
            var epoch = s.Epochs.GetValueOrDefault(partition);
            var committed = s.HighestCommitted.GetValueOrDefault(partition);
            var reset = end >= 0 && committed > end;
            if (reset)
            {
                epoch++;
                s.Epochs[partition] = epoch;
                s.HighestCommitted[partition] = 0;
                changed = true;
            }

            result[i] = new PartitionEpoch(partition, epoch, reset, committed);
        }

        if (changed)
        {
            await state.WriteStateAsync();
        }

        return result;
    }

    public async Task RecordCommittedAsync(PartitionOffset[] committed)
    {
        ArgumentNullException.ThrowIfNull(committed);
        var changed = false;
        foreach (var (partition, offset) in committed)
        {
            if (offset > state.State.HighestCommitted.GetValueOrDefault(partition))
            {
                state.State.HighestCommitted[partition] = offset;
                changed = true;
            }
        }

        if (changed)
        {
            await state.WriteStateAsync();
        }
    }
}
