namespace MIC.Streaming.Core.Data;

/// <summary>
/// One user–item interaction as a source states it, before ids are made dense.
/// </summary>
/// <param name="UserId">The source's user id.</param>
/// <param name="ItemId">The source's item id.</param>
/// <param name="Timestamp">Unix seconds, or an order position where a source keeps only order.</param>
/// <param name="Behaviour">Behaviour type (pv, cart, fav, buy, click, rating…); "click" when a source has none.</param>
/// <param name="Category">The item's category where the interaction line carries it.</param>
public readonly record struct RawInteraction(
    string UserId,
    string ItemId,
    long Timestamp,
    string Behaviour = RawInteraction.DefaultBehaviour,
    string? Category = null)
{
    public const string DefaultBehaviour = "click";
}
