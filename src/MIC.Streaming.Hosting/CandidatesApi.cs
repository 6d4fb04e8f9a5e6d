using System.Globalization;
using MIC.Streaming.Core.Events;
using MIC.Streaming.Grains;
using MIC.Streaming.Grains.Serving;
using MIC.Streaming.Ingestion;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace MIC.Streaming.Hosting;

/// <summary>JSON shape of one served item.</summary>
public sealed record CandidateDto(string ItemId, float Score, string[] Channels);

/// <summary>JSON shape of a candidates answer.</summary>
public sealed record CandidatesDto(string UserId, long ModelVersion, bool ColdStart, int HistoryLength, string? NewestEventId, CandidateDto[] Items)
{
    /// <summary>Sharded serving: true when some index shards did not answer in time (a silo died); the items come from the others.</summary>
    public bool Partial { get; init; }
}

/// <summary>Accepted event: where it landed in Kafka.</summary>
public sealed record EventAcceptedDto(string EventId, int Partition, long Offset);

/// <summary>
/// The HTTP API co-hosted in each silo. Every bad input is a 4xx ProblemDetails; k above the
/// configured maximum is clamped, not rejected.
/// </summary>
public static class CandidatesApi
{
    private static readonly (string Name, RetrievalChannels Channel)[] ChannelNames =
        [("u2i", RetrievalChannels.U2I), ("u2u2i", RetrievalChannels.U2U2I), ("u2i2i", RetrievalChannels.U2I2I), ("popular", RetrievalChannels.Popular)];

    public static WebApplication MapMicApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRateLimiter();
        app.MapOpenApi();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        if (app.Services.GetRequiredService<SiloOptions>().Dashboard)
        {
            app.MapOrleansDashboard("/dashboard").AddEndpointFilter(ApiSecurity.RequireScope(ApiScope.Admin));
        }

        // Every /v1 endpoint: the per-client rate limit, then a key of at least read scope.
        var v1 = app.MapGroup("/v1").RequireRateLimiting(ApiSecurity.CandidatesPolicy).AddEndpointFilter(ApiSecurity.RequireApiKey);
        v1.MapGet("/users/{userId}/candidates", GetCandidates).WithName("GetCandidates")
            .WithSummary("Multi-channel candidates for a user, from the live sequence and the current model version.");
        v1.MapGet("/users/{userId}", GetUser).WithName("GetUser").WithSummary("The user's recent sequence and fields.");
        v1.MapGet("/items/{itemId}", GetItem).WithName("GetItem").WithSummary("An item's counters and recent interactors.");
        v1.MapPost("/events", PostEvent).WithName("PostEvent").AddEndpointFilter(ApiSecurity.RequireScope(ApiScope.Write))
            .WithSummary("Publishes one click event (same JSON and validation as the Kafka topic).")
            .Accepts<ClickEventBody>("application/json");
        v1.MapGet("/model", GetModel).WithName("GetModel").WithSummary("The model version this silo serves and the registry's history.");
        v1.MapPost("/model/rollback", Rollback).WithName("RollbackModel").AddEndpointFilter(ApiSecurity.RequireScope(ApiScope.Admin))
            .WithSummary("Publishes an older version's weights and indexes again as a new version; every silo swaps to it.");
        return app;
    }

    internal static async Task<Results<Ok<CandidatesDto>, ProblemHttpResult>> GetCandidates(
        HttpContext http, string userId, string? k, string? channels, IGrainFactory grains, ServingModel serving, IOptions<ApiOptions> api)
    {
        userId = RouteId(http, userId, 3);
        if (!ValidId(userId, out var idProblem))
        {
            return idProblem;
        }

        var limits = api.Value;
        var count = limits.DefaultK;
        if (k is not null && (!Digits(k) || !int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid k", $"k must be a positive integer (got '{Truncate(k)}'); values above {limits.MaxK} are clamped.");
        }

        count = Math.Min(count, limits.MaxK);
        if (!TryParseChannels(channels, out var set, out var channelError))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid channels", channelError);
        }

        if (!serving.IsReady)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "No model yet", "This silo has not loaded a model version yet; retry shortly.");
        }

        var response = await grains.GetGrain<IRetrievalGrain>(0).GetCandidatesAsync(new CandidateRequest(userId, count, set));
        return TypedResults.Ok(new CandidatesDto(
            response.UserId, response.ModelVersion, response.ColdStart, response.HistoryLength, response.NewestEventId,
            [.. response.Items.Select(i => new CandidateDto(i.ItemId, i.Score, ChannelList(i.Channels)))])
        {
            Partial = response.Partial,
        });
    }

    internal static async Task<Results<Ok<UserView>, ProblemHttpResult>> GetUser(HttpContext http, string userId, IGrainFactory grains)
    {
        userId = RouteId(http, userId, 3);
        if (!ValidId(userId, out var problem))
        {
            return problem;
        }

        return TypedResults.Ok(await grains.GetGrain<IUserGrain>(userId).GetAsync());
    }

    internal static async Task<Results<Ok<ItemView>, ProblemHttpResult>> GetItem(HttpContext http, string itemId, IGrainFactory grains)
    {
        itemId = RouteId(http, itemId, 3);
        if (!ValidId(itemId, out var problem))
        {
            return problem;
        }

        return TypedResults.Ok(await grains.GetGrain<IItemGrain>(itemId).GetAsync());
    }

    internal static async Task<Results<Accepted<EventAcceptedDto>, ProblemHttpResult>> PostEvent(HttpRequest request, ClickPublisher publisher, CancellationToken cancellationToken)
    {
        if (request.ContentLength > ClickEvent.MaxPayloadBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Event too large", $"An event is at most {ClickEvent.MaxPayloadBytes} bytes.");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > ClickEvent.MaxPayloadBytes)
            {
                return Problem(StatusCodes.Status413PayloadTooLarge, "Event too large", $"An event is at most {ClickEvent.MaxPayloadBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        if (!ClickEventJson.TryParse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), out var evt, out var reason))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid event", $"The event was rejected: {reason}.", reason);
        }

        var (partition, offset) = await publisher.PublishAsync(evt!, cancellationToken);
        return TypedResults.Accepted($"/v1/users/{Uri.EscapeDataString(evt!.UserId)}", new EventAcceptedDto(evt.EventId, partition, offset));
    }

    internal static async Task<Ok<ModelStatusDto>> GetModel(IGrainFactory grains, ServingModel serving)
    {
        var history = await grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey).GetHistoryAsync();
        return TypedResults.Ok(new ModelStatusDto(serving.IsReady ? serving.CurrentVersion : null, history));
    }

    internal static async Task<Results<Ok<ModelVersionInfo>, ProblemHttpResult>> Rollback(
        string? to, IGrainFactory grains, IOptions<ServingOptions> serving)
    {
        if (to is null || !Digits(to) || !long.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out var from) || from < 1)
        {
            return Problem(StatusCodes.Status400BadRequest, "Bad version", "Query parameter 'to' must be a published version number ≥ 1.", "bad_version");
        }

        var registry = grains.GetGrain<IModelRegistryGrain>(ModelRegistryGrain.DefaultKey);
        try
        {
            // The registry grain serialises rollbacks and makes a repeated one a no-op.
            return TypedResults.Ok(await registry.RollbackAsync(from, serving.Value.ModelStore));
        }
        catch (InvalidOperationException ex)
        {
            return Problem(StatusCodes.Status409Conflict, "Already current", ex.Message, "already_current");
        }
        catch (DirectoryNotFoundException ex)
        {
            return Problem(StatusCodes.Status404NotFound, "No such version", ex.Message, "unknown_version");
        }
        catch (Exception ex) when (ex is IOException or ArgumentException)
        {
            return Problem(StatusCodes.Status409Conflict, "Version race", ex.Message + " Retry.", "version_race");
        }
    }

    internal static bool TryParseChannels(string? text, out RetrievalChannels set, out string error)
    {
        set = RetrievalChannels.All;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        set = RetrievalChannels.None;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var match = Array.Find(ChannelNames, c => c.Name.Equals(part, StringComparison.OrdinalIgnoreCase));
            if (match.Name is null)
            {
                error = $"Unknown channel '{Truncate(part)}'; use a comma list of u2i, u2u2i, u2i2i, popular.";
                return false;
            }

            set |= match.Channel;
        }

        if (set == RetrievalChannels.None)
        {
            error = "channels is empty; use a comma list of u2i, u2u2i, u2i2i, popular.";
            return false;
        }

        return true;
    }

    /// <summary>Provenance names for every combination of the four channel flags, built once (shared by every response).</summary>
    private static readonly string[][] ChannelLists =
        [.. Enumerable.Range(0, 16).Select(flags => ChannelNames.Where(c => ((RetrievalChannels)flags).HasFlag(c.Channel)).Select(c => c.Name).ToArray())];

    private static string[] ChannelList(RetrievalChannels channels) => ChannelLists[(int)channels & 15];

    /// <summary>
    /// Only ASCII digits: .NET's integer parsing accepts trailing NUL characters, so <c>k=5%00</c> or
    /// <c>to=1%00</c> would otherwise pass (a rollback was performed with one).
    /// </summary>
    private static bool Digits(string text) => text.Length is > 0 and <= 19 && !text.AsSpan().ContainsAnyExceptInRange('0', '9');

    /// <summary>
    /// The id as the client sent it. Routing decodes every escape in a path segment except
    /// <c>%2F</c> (kept so a segment cannot become two), so an id with a slash would arrive as
    /// <c>a%2Fb</c>: when a route value still holds a '%', the segment is decoded from the raw target.
    /// An id accepted by POST /v1/events is thus readable at the Location it returned.
    /// </summary>
    internal static string RouteId(HttpContext http, string routeValue, int segment)
    {
        if (!routeValue.Contains('%', StringComparison.Ordinal))
        {
            return routeValue;
        }

        var raw = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "";
        var path = raw.Split('?', 2)[0];
        var parts = path.Split('/');
        return parts.Length > segment ? Uri.UnescapeDataString(parts[segment]) : routeValue;
    }

    private static bool ValidId(string id, out ProblemHttpResult problem)
    {
        problem = null!;
        if (string.IsNullOrWhiteSpace(id) || id.Length > ClickEvent.MaxIdLength || ClickEventJson.HasControl(id))
        {
            problem = Problem(StatusCodes.Status400BadRequest, "Invalid id", $"Ids are 1–{ClickEvent.MaxIdLength} printable characters.");
            return false;
        }

        return true;
    }

    private static ProblemHttpResult Problem(int status, string title, string detail, string? reason = null)
    {
        var extensions = reason is null ? null : new Dictionary<string, object?> { ["reason"] = reason };
        return TypedResults.Problem(detail, statusCode: status, title: title, extensions: extensions);
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}

/// <summary>GET /v1/model.</summary>
public sealed record ModelStatusDto(long? ServingVersion, ModelVersionInfo[] Registry);

/// <summary>OpenAPI description of the event body (the parser reads the raw bytes).</summary>
public sealed record ClickEventBody(string EventId, string UserId, string ItemId, long Timestamp, string? Behaviour, string? Category, Dictionary<string, string>? Fields);
