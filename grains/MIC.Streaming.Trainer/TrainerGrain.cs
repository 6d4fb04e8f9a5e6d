using MIC.Streaming.Grains;
using Microsoft.Extensions.Logging;

namespace MIC.Streaming.Trainer;

/// <summary>
/// Hosts the <see cref="StreamingTrainer"/> loop: one activation cluster-wide (key "default"),
/// registered only on trainer-role silos, so Orleans places it on one of them. The loop runs on its
/// own long-running task outside the grain scheduler (training blocks for seconds); the grain only
/// answers status calls and restarts a loop that died. If the silo dies, the next keep-alive call
/// activates the grain on another trainer silo, which resumes from the registry's current version.
/// </summary>
public sealed class TrainerGrain(TrainerHost host, ILogger<TrainerGrain> logger) : Grain, ITrainerGrain
{
    private CancellationTokenSource? _stop;
    private StreamingTrainer? _trainer;
    private Task? _loop;
    private string? _lastCrash;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Start();
        return Task.CompletedTask;
    }

    public Task<TrainerStatus> GetStatusAsync()
    {
        if (_loop is { IsCompleted: true } && _stop is { IsCancellationRequested: false })
        {
            Start(); // the loop crashed (logged) or found a newer starting point: resume from the registry's version
        }

        var status = _trainer!.Status;
        return Task.FromResult(status.LastError is null && _lastCrash is not null ? status with { LastError = _lastCrash } : status);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await StopAsync(cancellationToken);
    }

    private void Start()
    {
        _trainer?.Dispose();
        _stop?.Dispose();
        _stop = CancellationTokenSource.CreateLinkedTokenSource(host.Stopping);
        var trainer = _trainer = host.Create();
        var token = _stop.Token;
        TrainerLog.Started(logger, host.SiloName);
        _loop = Task.Factory.StartNew(
            async () =>
            {
                try
                {
                    await trainer.RunAsync(token);
                }
                catch (Exception ex) when (!token.IsCancellationRequested)
                {
                    _lastCrash = $"{ex.GetType().Name}: {ex.Message}";
                    TrainerLog.Crashed(logger, ex, ex.Message);
                }
                catch (OperationCanceledException)
                {
                }
            },
            token,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap();
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null || _loop is null)
        {
            return;
        }

        await _stop.CancelAsync();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
        }

        _trainer?.Dispose();
        _stop.Dispose();
        _stop = null;
    }
}
