using MIC.Streaming.Client;
using MIC.Streaming.Grains;

// A team's own endpoint: candidates from the MIC silos' grains through the Orleans client, then
// whatever the service adds (here: nothing but a trimmed JSON shape). Settings: section "Mic"
// (Redis, ClusterId, ServiceId; see MicClientOptions), e.g. Mic__Redis=127.0.0.1:6379.
var builder = WebApplication.CreateBuilder(args);
builder.AddMicClient();
var app = builder.Build();

app.MapGet("/health", () => Results.Ok("ok"));
app.MapGet("/recommend/{userId}", async (string userId, int? k, CandidatesClient candidates, CancellationToken cancellationToken) =>
{
    if (userId.Length > 256 || userId.Any(char.IsControl) || k is < 1 or > 500)
    {
        return Results.Problem("userId is 1–256 printable characters and k is 1–500.", statusCode: StatusCodes.Status400BadRequest);
    }

    try
    {
        var answer = await candidates.GetCandidatesAsync(userId, k ?? 20, RetrievalChannels.All, cancellationToken);
        return Results.Ok(new { answer.UserId, answer.ModelVersion, answer.ColdStart, answer.HistoryLength, answer.NewestEventId, Items = answer.Items.Select(i => i.ItemId) });
    }
    catch (Exception ex) when (CandidatesClient.IsTransient(ex))
    {
        return Results.Problem($"No silo answered within the retry budget: {ex.Message}", statusCode: StatusCodes.Status503ServiceUnavailable);
    }
});

app.Run();
