using MIC.Streaming.Core.Data;
using MIC.Streaming.Core.Import;

namespace MIC.Streaming.Core.Tests;

public class ImporterTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    private static InteractionDataset Load(string path, string format, ImportOptions? options = null) =>
        DatasetImporters.Load(path, format, options ?? new ImportOptions()).Dataset;

    private static string[] SequenceOf(InteractionDataset d, string user)
    {
        Assert.True(d.Users.TryGetIndex(user, out var u));
        return d.Sequences.Sequence(u).ToArray().Select(d.Items.GetRaw).ToArray();
    }

    [Fact]
    public void ComiRec_ThreeColumnsWithCategoryFile_SortsByTimeAndReadsCategories()
    {
        var data = _dir.Write("book_train.txt", "0,17,1\n0,9,0\n1,9,0\n");
        _dir.Write("book_item_cate.txt", "17,3\n9,1\n999,1\n");

        var d = Load(data, "comirec");

        Assert.Equal(["9", "17"], SequenceOf(d, "0"));
        Assert.Equal("3", d.Categories.GetRaw(d.ItemCategory[d.Items.TryGetIndex("17", out var i17) ? i17 : -1]));
        Assert.Equal(3, d.InteractionCount);
    }

    [Fact]
    public void ComiRec_FourColumns_UsesInlineCategory()
    {
        var data = _dir.Write("x.txt", "u1,a,c7,5\nu1,b,c8,6\n");

        var d = Load(data, "comirec");

        Assert.Equal(2, d.Categories.Count);
    }

    [Fact]
    public void ComiRec_MalformedLine_ErrorNamesFileLineAndReason()
    {
        var data = _dir.Write("bad_train.txt", "0,1,0\n0,2,notatime\n");

        var e = Assert.Throws<DataFormatException>(() => Load(data, "comirec"));

        Assert.Equal(2, e.Line);
        Assert.Contains("bad_train.txt:2:", e.Message, StringComparison.Ordinal);
        Assert.Contains("timestamp", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ComiRec_SkipBadLines_CountsAndKeepsGoodLines()
    {
        var data = _dir.Write("bad_train.txt", "0,1,0\nonlyone\n0,2,x\n,3,4\n0,4,2\n");

        var (d, report) = DatasetImporters.Load(data, "comirec", new ImportOptions { SkipBadLines = true });

        Assert.Equal(3, report.BadLines);
        Assert.Equal(2, d.InteractionCount);
        Assert.Contains(report.BadLineExamples, e => e.Contains(":2:", StringComparison.Ordinal) && e.Contains("expected 3 or 4", StringComparison.Ordinal));
        Assert.Contains(report.BadLineExamples, e => e.Contains(":4:", StringComparison.Ordinal) && e.Contains("empty id", StringComparison.Ordinal));
    }

    [Fact]
    public void Taobao_DefaultFilter_KeepsOnlyPageViews()
    {
        var data = _dir.Write("UserBehavior.csv", "1,10,100,pv,1511544070\n1,11,100,buy,1511544071\n1,12,101,pv,1511544069\n2,10,100,cart,1511544080\n");

        var (d, report) = DatasetImporters.Load(data, "taobao", new ImportOptions());

        Assert.Equal(["12", "10"], SequenceOf(d, "1"));
        Assert.Equal(2, report.Filtered);
        Assert.False(d.Users.TryGetIndex("2", out _));
        Assert.Equal(2, d.Categories.Count);
    }

    [Fact]
    public void Taobao_UnknownBehaviour_IsMalformed()
    {
        var data = _dir.Write("UserBehavior.csv", "1,10,100,pv,1\n1,11,100,like,2\n");

        var e = Assert.Throws<DataFormatException>(() => Load(data, "taobao"));

        Assert.Equal(2, e.Line);
        Assert.Contains("unknown behaviour", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Taobao_BehaviourOption_KeepsRequestedTypes()
    {
        var data = _dir.Write("UserBehavior.csv", "1,10,100,pv,1\n1,11,100,buy,2\n");

        var d = Load(data, "taobao", new ImportOptions { Behaviours = new HashSet<string> { "pv", "buy" } });

        Assert.Equal(2, d.InteractionCount);
        Assert.Equal(2, d.Behaviours.Count);
    }

    [Fact]
    public void S3Rec_SequencesAndStreamedAttributes()
    {
        var data = _dir.Write("Beauty.txt", "1 5 6 7\n2 6 8\n");
        _dir.Write("Beauty_item2attributes.json", "{\"5\": [1, 2], \"6\": [2], \"8\": [3, 4, 5], \"99\": [1]}");

        var (d, report) = DatasetImporters.Load(data, "s3rec", new ImportOptions());

        Assert.Equal(["5", "6", "7"], SequenceOf(d, "1"));
        Assert.True(d.Items.TryGetIndex("8", out var i8));
        Assert.Equal(["3", "4", "5"], d.AttributesOf(i8).ToArray().Select(d.Attributes.GetRaw));
        Assert.Equal(1, report.UnknownItemMetaRows);
        Assert.True(d.Items.TryGetIndex("7", out var i7));
        Assert.Equal(0, d.AttributesOf(i7).Length);
    }

    [Fact]
    public void S3Rec_AttributeJsonLargerThanBuffer_IsReadInChunks()
    {
        var data = _dir.Write("Big.txt", string.Join('\n', Enumerable.Range(0, 3000).Select(u => $"{u} {u} {u + 1}")));
        var json = "{" + string.Join(", ", Enumerable.Range(0, 3001).Select(i => $"\"{i}\": [{i % 7}, {(i % 11) + 100}]")) + "}";
        _dir.Write("Big_item2attributes.json", json);

        var d = Load(data, "s3rec");

        Assert.Equal(3001, d.ItemCount);
        Assert.True(d.Items.TryGetIndex("2999", out var item));
        Assert.Equal([(2999 % 7).ToString(System.Globalization.CultureInfo.InvariantCulture), ((2999 % 11) + 100).ToString(System.Globalization.CultureInfo.InvariantCulture)], d.AttributesOf(item).ToArray().Select(d.Attributes.GetRaw));
    }

    [Fact]
    public void S3Rec_TruncatedAttributeJson_ClearError()
    {
        var data = _dir.Write("T.txt", "1 5 6\n");
        _dir.Write("T_item2attributes.json", "{\"5\": [1, 2], \"6\": [2");

        var e = Assert.Throws<DataFormatException>(() => Load(data, "s3rec"));

        Assert.Contains("T_item2attributes.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void S3Rec_UserWithoutItems_IsMalformed()
    {
        var data = _dir.Write("U.txt", "1 5 6\n2\n");

        var e = Assert.Throws<DataFormatException>(() => Load(data, "s3rec"));

        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void S3Rec_NonIntegerIds_AreMalformed()
    {
        var data = _dir.Write("N.txt", "1 5 6\n@@@ ### !!!\n");

        var e = Assert.Throws<DataFormatException>(() => Load(data, "s3rec"));

        Assert.Equal(2, e.Line);
        Assert.Contains("not an integer id", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GenericCsv_DefaultMappingWithHeader_SkipsHeaderLine()
    {
        var data = _dir.Write("h.csv", "user,item,time\nu1,i1,1\nu1,i2,2\n");

        var d = Load(data, "csv");

        Assert.Equal(1, d.UserCount);
        Assert.Equal(["i1", "i2"], SequenceOf(d, "u1"));
    }

    [Fact]
    public void MovieLens_RatingsAndQuotedGenres()
    {
        _dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759100\n2,31,4.0,1260759200\n");
        _dir.Write("movies.csv", "movieId,title,genres\n31,\"Dangerous Minds, The (1995)\",Drama\n1029,Dumbo (1941),Animation|Children|Drama\n");

        var d = Load(_dir.Path, "movielens");

        Assert.Equal(["1029", "31"], SequenceOf(d, "1"));
        Assert.True(d.Items.TryGetIndex("1029", out var dumbo));
        Assert.Equal(["Animation", "Children", "Drama"], d.AttributesOf(dumbo).ToArray().Select(d.Attributes.GetRaw));
        Assert.Equal("Animation", d.Categories.GetRaw(d.ItemCategory[dumbo]));
    }

    [Fact]
    public void MovieLens_MinRating_FiltersAndBadRatingIsReported()
    {
        _dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,31,2.5,1\n1,32,4.5,2\n1,33,abc,3\n");

        var (d, report) = DatasetImporters.Load(_dir.Path, "movielens", new ImportOptions { MinRating = 4, SkipBadLines = true });

        Assert.Equal(1, d.InteractionCount);
        Assert.Equal(1, report.Filtered);
        Assert.Equal(1, report.BadLines);
        Assert.Contains("ratings.csv:4: rating 'abc'", report.BadLineExamples[0], StringComparison.Ordinal);
    }

    [Fact]
    public void GenericCsv_TabSeparatedWithHeaderNames()
    {
        var data = _dir.Write("train.csv", "user_id\titem_id\ttime\n2177\t3\t965779200\n2177\t4\t965779100\n");

        var d = Load(data, "csv", new ImportOptions { Columns = "user=user_id,item=item_id,time=time", Delimiter = '\t' });

        Assert.Equal(["4", "3"], SequenceOf(d, "2177"));
    }

    [Fact]
    public void GenericCsv_IndicesWithoutHeader_AndUnknownColumnNameFails()
    {
        var data = _dir.Write("x.csv", "5,a,9\n");
        Assert.Equal(1, Load(data, "csv", new ImportOptions { Columns = "user=1,item=0,time=2" }).InteractionCount);

        var named = _dir.Write("y.csv", "u,i,t\n1,2,3\n");
        var e = Assert.Throws<DataFormatException>(() => Load(named, "csv", new ImportOptions { Columns = "user=u,item=i,time=when" }));
        Assert.Contains("'when'", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void GenericCsv_BadMapping_ThrowsArgumentException()
    {
        var data = _dir.Write("x.csv", "5,a,9\n");

        Assert.Throws<ArgumentException>(() => Load(data, "csv", new ImportOptions { Columns = "user=0,item=1" }));
        Assert.Throws<ArgumentException>(() => Load(data, "csv", new ImportOptions { Columns = "who=0,item=1,time=2" }));
    }

    [Fact]
    public void Load_UnknownFormatOrMissingFile_ClearErrors()
    {
        Assert.Throws<ArgumentException>(() => Load("x", "parquet"));
        var e = Assert.Throws<FileNotFoundException>(() => Load(System.IO.Path.Combine(_dir.Path, "nope.txt"), "comirec"));
        Assert.Contains("nope.txt", e.Message, StringComparison.Ordinal);
    }
}
