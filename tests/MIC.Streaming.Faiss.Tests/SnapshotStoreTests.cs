using MIC.Streaming.Core.Data;
using MIC.Streaming.Retrieval.Channels;
using MIC.Streaming.Retrieval.Index;

namespace MIC.Streaming.Faiss.Tests;

public class SnapshotStoreTests
{
    private static (RetrievalSpaces Spaces, EmbeddingMatrix Queries) Build(int shards)
    {
        var items = TestVectors.Clustered(3000, 16, 30, 1);
        var users = TestVectors.Clustered(500, 16, 30, 2);
        var offsets = Enumerable.Range(0, 501).Select(u => u * 2).ToArray();
        var histories = new SequenceTable(offsets, Enumerable.Range(0, 1000).Select(i => i % 3000).ToArray(), new long[1000]);
        var (spaces, _) = SpacesBuilder.Build(items, items, users, histories, new IndexBuildOptions { ExactBelow = 1000, Shards = shards, TuningQueries = 50 });
        return (spaces, users);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SaveLoad_RoundTrip_SameCandidates(int shards)
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "v7");
        var (spaces, queries) = Build(shards);
        using (spaces)
        {
            SnapshotStore.Save(path, spaces, 7);
            var (loaded, version) = SnapshotStore.Load(path);
            using (loaded)
            {
                Assert.Equal(7, version);
                for (var q = 0; q < 20; q++)
                {
                    var query = new UserQuery([queries.Row(q).ToArray()], [queries.Row(q).ToArray()], [q]);
                    var a = MultiChannelRetriever.Retrieve(spaces, query, 50, ChannelSet.All, new ChannelOptions());
                    var b = MultiChannelRetriever.Retrieve(loaded, query, 50, ChannelSet.All, new ChannelOptions());
                    Assert.Equal(a, b);
                }
            }
        }
    }

    [Fact]
    public void Load_CorruptOrPartialSnapshot_Rejected()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "v1");
        var (spaces, _) = Build(1);
        using (spaces)
        {
            SnapshotStore.Save(path, spaces, 1);
        }

        var faissFile = Directory.GetFiles(path, "*.faiss")[0];
        var bytes = File.ReadAllBytes(faissFile);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(faissFile, bytes);
        var corrupt = Assert.Throws<InvalidDataException>(() => SnapshotStore.Load(path));
        Assert.Contains("checksum", corrupt.Message, StringComparison.Ordinal);

        File.Delete(faissFile);
        Assert.Contains("missing", Assert.Throws<InvalidDataException>(() => SnapshotStore.Load(path)).Message, StringComparison.Ordinal);

        File.Delete(Path.Combine(path, SnapshotStore.ManifestFile));
        Assert.Contains("snapshot.json", Assert.Throws<InvalidDataException>(() => SnapshotStore.Load(path)).Message, StringComparison.Ordinal);
    }
}
