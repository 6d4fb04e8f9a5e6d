using MIC.Streaming.Core.Data;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Retrieval.Tests;

public class ChannelTests
{
    // Items live in 2-D: item 0 = (1,0), 1 = (0.8,0.6), 2 = (0,1), 3 = (-1,0), 4 = (0.6,0.8).
    private static readonly EmbeddingMatrix ItemVectors = new([1, 0, 0.8f, 0.6f, 0, 1, -1, 0, 0.6f, 0.8f], 2);

    // Users: 0 = (1,0) history [0,1]; 1 = (0,1) history [2,4]; 2 = (-1,0) history [3].
    private static readonly EmbeddingMatrix UserVectors = new([1, 0, 0, 1, -1, 0], 2);

    private static readonly SequenceTable Histories = new([0, 2, 4, 5], [0, 1, 2, 4, 3], new long[5]);

    private static RetrievalSpaces Spaces() => RetrievalSpaces.BuildExact(ItemVectors, ItemVectors, UserVectors, Histories);

    private static UserQuery Query(float x, float y, params int[] history) => new([[x, y]], [[x, y]], history);

    [Fact]
    public void ExactIndex_TopK_ByInnerProduct_IdsPreserved()
    {
        using var index = new ExactIndex(ItemVectors, [10, 11, 12, 13, 14]);
        var hits = new SearchHit[3];

        var n = index.Search([1, 0], 3, hits);

        Assert.Equal(3, n);
        Assert.Equal([10L, 11L, 14L], hits.Select(h => h.Id));
        Assert.Equal(0.8f, hits[1].Score, 5);
    }

    [Fact]
    public void ExactIndex_WrongDimension_Throws()
    {
        using var index = new ExactIndex(ItemVectors);

        Assert.Throws<ArgumentException>(() => index.Search([1, 0, 0], 2, new SearchHit[2]));
    }

    [Fact]
    public void U2I_RanksItemsByCosine_MultiInterestKeepsBestScore()
    {
        using var spaces = Spaces();

        var single = U2IChannel.Retrieve(spaces, Query(1, 0), 2);
        var multi = U2IChannel.Retrieve(spaces, new UserQuery([[1, 0], [0, 1]], [[1, 0], [0, 1]], []), 3);

        Assert.Equal([0, 1], single.Select(c => c.Item));
        Assert.All(single, c => Assert.Equal(ChannelSet.U2I, c.Channels));
        Assert.Equal([0, 2, 1], multi.Select(c => c.Item)); // 0 and 2 score 1 (one per interest); then 1 (0.8) ties 4 (0.8), smaller id first
    }

    [Fact]
    public void U2U2I_SimilarUsersHistories_TimesUserItemCosine()
    {
        using var spaces = Spaces();

        // Query (0.6, 0.8): user 0 sim 0.6 (items 0, 1); user 1 sim 0.8 (items 2, 4); user 2 sim −0.6 (skipped).
        var result = U2U2IChannel.Retrieve(spaces, Query(0.6f, 0.8f), 4, new ChannelOptions { SimilarUsers = 3 });

        // score = sim(u, v) · cos(u, j): item 4: .8·1 = .8; item 2: .8·.8 = .64; item 1: .6·.96 = .576; item 0: .6·.6 = .36.
        Assert.Equal([4, 2, 1, 0], result.Select(c => c.Item));
        Assert.Equal(0.8f, result[0].Score, 4);
        Assert.Equal(0.576f, result[2].Score, 4);
        Assert.DoesNotContain(result, c => c.Item == 3);
    }

    [Fact]
    public void U2U2I_SkipsTheQueryUserItself()
    {
        using var spaces = Spaces();

        var result = U2U2IChannel.Retrieve(spaces, Query(1, 0) with { UserIndex = 0 }, 5, new ChannelOptions { SimilarUsers = 1 });

        // User 0 is the closest but is the query user: the next similar user with a positive score is user 1 (sim 0 → skipped), so nothing.
        Assert.Empty(result);
    }

    [Fact]
    public void U2I2I_SimilarItemsOfHistory_TimesUserItemCosine_HistoryItemNotProposedByItself()
    {
        using var spaces = Spaces();

        // History [0]: neighbours of item 0 = 1 (.8), 4 (.6), 2 (0 → skipped), 3 (−1 → skipped).
        var result = U2I2IChannel.Retrieve(spaces, Query(1, 0, 0), 5, new ChannelOptions { SimilarItemsPerHistoryItem = 4 });

        Assert.Equal([1, 4], result.Select(c => c.Item));
        Assert.Equal(0.8f * 0.8f, result[0].Score, 4);
        Assert.Equal(0.6f * 0.6f, result[1].Score, 4);
    }

    [Fact]
    public void U2I2I_PrecomputedNeighbourTable_SameAnswerAsIndexSearch()
    {
        using var spaces = Spaces();
        var table = ItemNeighbourTable.Build(spaces.ItemOwnIndex, spaces.ItemOwn, width: 4);
        using var withTable = new RetrievalSpaces(spaces.ItemRelevanceIndex, spaces.ItemRelevance, spaces.ItemOwnIndex, spaces.ItemOwn, spaces.UserOwnIndex, spaces.UserOwn, spaces.UserIds, spaces.UserHistories) { ItemNeighbours = table };
        var options = new ChannelOptions { SimilarItemsPerHistoryItem = 4 };

        Assert.Equal([1, 4, 2, 3], table.Ids[..4]); // item 0's neighbours, itself excluded
        foreach (var history in new[] { new[] { 0 }, new[] { 2, 4 }, new[] { 1, 3, 0 } })
        {
            var searched = U2I2IChannel.Retrieve(Spaces(), Query(0.6f, 0.8f, history), 5, options);
            var looked = U2I2IChannel.Retrieve(withTable, Query(0.6f, 0.8f, history), 5, options);
            Assert.Equal(searched, looked);
        }
    }

    [Fact]
    public void Merger_DeduplicatesAndUnionsProvenance_WeightsApply()
    {
        Candidate[] a = [new(1, 2f, ChannelSet.U2I), new(2, 1f, ChannelSet.U2I)];
        Candidate[] b = [new(2, 0.5f, ChannelSet.U2I2I), new(3, 0.25f, ChannelSet.U2I2I)];

        var merged = CandidateMerger.Merge([(a, 1f), (b, 1f)], 10);
        var weighted = CandidateMerger.Merge([(a, 0.1f), (b, 1f)], 10);

        Assert.Equal([2, 1, 3], merged.Select(c => c.Item)); // 2: .5 + 1 = 1.5; 1: 1; 3: .5
        Assert.Equal(ChannelSet.U2I | ChannelSet.U2I2I, merged[0].Channels);
        Assert.Equal(ChannelSet.U2I, merged[1].Channels);
        Assert.Equal(2, weighted[0].Item);
        Assert.Equal(3, weighted[1].Item); // .5 beats 1's .1
    }

    [Fact]
    public void Merger_EqualScores_OrderByItemId_AndKeepsTheTopK()
    {
        Candidate[] a = [new(9, 1f, ChannelSet.U2I), new(4, 1f, ChannelSet.U2I), new(7, 0.5f, ChannelSet.U2I)];
        Candidate[] b = [new(5, 1f, ChannelSet.U2U2I), new(8, 0.1f, ChannelSet.U2U2I)];

        var merged = CandidateMerger.Merge([(a, 1f), (b, 1f)], 3);

        Assert.Equal([4, 5, 9], merged.Select(c => c.Item));
        Assert.Empty(CandidateMerger.Merge([(a, 1f), (b, 1f)], 0));
    }

    [Fact]
    public void MultiChannel_AllChannels_EveryCandidateCarriesProvenance()
    {
        using var spaces = Spaces();

        var result = MultiChannelRetriever.Retrieve(spaces, Query(0.6f, 0.8f, 0), 5, ChannelSet.All, new ChannelOptions());

        Assert.NotEmpty(result);
        Assert.All(result, c => Assert.NotEqual(ChannelSet.None, c.Channels));
        Assert.Equal(result.Length, result.Select(c => c.Item).Distinct().Count());
        Assert.Contains(result, c => c.Channels.HasFlag(ChannelSet.U2U2I));
        Assert.Contains(result, c => c.Channels.HasFlag(ChannelSet.U2I2I));
    }

    [Theory]
    [InlineData(1, 3)]
    [InlineData(3, 50)]
    [InlineData(500, 50)]
    [InlineData(500, 1000)]
    public void TopByVoteTimesRelevance_EqualsScoringEachCandidateOnItsOwn(int candidates, int k)
    {
        // The prefetching loop must rank exactly as vote × best-interest cosine, one row at a time.
        var rng = new Random(candidates + k);
        var items = new EmbeddingMatrix(Enumerable.Range(0, 2000 * 16).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), 16).Normalised();
        float[][] interests = [.. Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, 16).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray())];
        var unit = ChannelMath.Normalise(interests);
        var votes = new Dictionary<int, float>();
        while (votes.Count < candidates)
        {
            votes[rng.Next(items.Rows)] = (float)rng.NextDouble();
        }

        var result = ChannelMath.TopByVoteTimesRelevance(votes, unit, items, k, ChannelSet.U2I2I);

        var expected = votes
            .Select(kv => (Item: kv.Key, Score: kv.Value * unit.Max(u => System.Numerics.Tensors.TensorPrimitives.Dot(u, items.Row(kv.Key)))))
            .OrderByDescending(x => x.Score).Take(k).ToArray();
        Assert.Equal(expected.Length, result.Length);
        Assert.Equal(expected.Select(x => x.Item), result.Select(c => c.Item));
        Assert.Equal(expected.Select(x => x.Score), result.Select(c => c.Score));
        Assert.All(result, c => Assert.Equal(ChannelSet.U2I2I, c.Channels));
    }
}
