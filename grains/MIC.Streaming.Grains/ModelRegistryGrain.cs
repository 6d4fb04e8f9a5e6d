namespace MIC.Streaming.Grains;

[GenerateSerializer, Alias("mic.registry-state.v1")]
public sealed class RegistryState
{
    /// <summary>Published versions, oldest first; the last is current.</summary>
    [Id(0)] public List<ModelVersionInfo> Versions { get; set; } = [];
}

/// <summary>
/// The model + index version every silo serves. One activation cluster-wide (key "default"),
/// persisted, so a restarted cluster serves the version it served before.
/// </summary>
public sealed class ModelRegistryGrain(
    [PersistentState("registry", StorageNames.Registry)] IPersistentState<RegistryState> state, TimeProvider time) : Grain, IModelRegistryGrain
{
    public const string DefaultKey = "default";
    private const int HistoryKept = 20;

    public Task<ModelVersionInfo?> GetCurrentAsync() =>
        Task.FromResult(state.State.Versions.Count > 0 ? state.State.Versions[^1] : null);

    public async Task<ModelVersionInfo> PublishAsync(ModelVersionInfo version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var current = state.State.Versions.Count > 0 ? state.State.Versions[^1] : null;
        if (current is not null && version.Version <= current.Version)
        {
            throw new ArgumentException($"Version {version.Version} is not newer than the current version {current.Version}.", nameof(version));
        }

        state.State.Versions.Add(version);
        if (state.State.Versions.Count > HistoryKept)
        {
            state.State.Versions.RemoveRange(0, state.State.Versions.Count - HistoryKept);
        }

        await state.WriteStateAsync();
        return version;
    }

    public Task<ModelVersionInfo[]> GetHistoryAsync() => Task.FromResult(state.State.Versions.ToArray());

    public async Task<ModelVersionInfo> RollbackAsync(long from, string modelStore)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(from, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelStore);
        var current = state.State.Versions.Count > 0 ? state.State.Versions[^1] : null;
        if (current is not null && current.RolledBackFrom == from)
        {
            return current; // the same request again (a retry, a double click, ten operators): already done
        }

        if (current is not null && from == current.Version)
        {
            throw new InvalidOperationException($"Version {from} is the current version.");
        }

        var next = Serving.ModelStore.NextVersion(modelStore, current);
        var info = await Task.Run(() => Serving.ModelStore.Republish(modelStore, from, next, time));
        return await PublishAsync(info);
    }
}
