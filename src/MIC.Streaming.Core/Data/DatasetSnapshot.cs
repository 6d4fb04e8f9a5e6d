using System.Runtime.InteropServices;
using System.Text;

namespace MIC.Streaming.Core.Data;

/// <summary>
/// A compact binary snapshot of an <see cref="InteractionDataset"/> (<c>.micds</c>): a magic and
/// version, the id maps, then the raw arrays. Loading is a few bulk reads, far faster than re-parsing
/// the public text formats, and the file is what <c>mic data import --out</c> writes.
/// </summary>
public static class DatasetSnapshot
{
    private const uint Magic = 0x5344434D; // "MCDS"
    private const int Version = 1;

    public static void Save(InteractionDataset dataset, string path)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream, Encoding.UTF8);
        w.Write(Magic);
        w.Write(Version);
        w.Write(dataset.Name);
        foreach (var vocab in new[] { dataset.Users, dataset.Items, dataset.Categories, dataset.Attributes, dataset.Behaviours })
        {
            WriteVocab(w, vocab);
        }

        WriteArray(w, dataset.Sequences.Offsets);
        WriteArray(w, dataset.Sequences.Items);
        WriteArray(w, dataset.Sequences.Timestamps);
        WriteArray(w, dataset.BehaviourCodes);
        WriteArray(w, dataset.ItemCategory);
        WriteArray(w, dataset.ItemAttributeOffsets);
        WriteArray(w, dataset.ItemAttributes);
        w.Write(dataset.UserFields.Count);
        foreach (var f in dataset.UserFields)
        {
            w.Write(f.Name);
            WriteVocab(w, f.Vocabulary);
            WriteArray(w, f.Values);
        }
    }

    public static InteractionDataset Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            if (r.ReadUInt32() != Magic)
            {
                throw new InvalidDataException("not a .micds dataset snapshot (bad magic)");
            }

            var version = r.ReadInt32();
            if (version != Version)
            {
                throw new InvalidDataException($"snapshot version {version}; this build reads version {Version}");
            }

            var name = r.ReadString();
            var users = ReadVocab(r);
            var items = ReadVocab(r);
            var categories = ReadVocab(r);
            var attributes = ReadVocab(r);
            var behaviours = ReadVocab(r);
            var sequences = new SequenceTable(ReadArray<int>(r), ReadArray<int>(r), ReadArray<long>(r));
            var behaviourCodes = ReadArray<byte>(r);
            var itemCategory = ReadArray<int>(r);
            var attrOffsets = ReadArray<int>(r);
            var attrs = ReadArray<int>(r);
            var fieldCount = r.ReadInt32();
            var fields = new List<CategoricalField>(fieldCount);
            for (var f = 0; f < fieldCount; f++)
            {
                fields.Add(new CategoricalField(r.ReadString(), ReadVocab(r), ReadArray<int>(r)));
            }

            if (sequences.UserCount != users.Count || itemCategory.Length != items.Count || attrOffsets.Length != items.Count + 1)
            {
                throw new InvalidDataException("array sizes do not match the id maps");
            }

            return new InteractionDataset(name, users, items, categories, attributes, behaviours, sequences, behaviourCodes, itemCategory, attrOffsets, attrs, fields);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or InvalidDataException)
        {
            throw new InvalidDataException($"{path} is not a readable dataset snapshot: {e.Message}", e);
        }
    }

    private static void WriteVocab(BinaryWriter w, IdVocabulary vocab)
    {
        w.Write(vocab.Count);
        foreach (var id in vocab.RawIds)
        {
            w.Write(id);
        }
    }

    private static IdVocabulary ReadVocab(BinaryReader r)
    {
        var count = r.ReadInt32();
        if (count < 0)
        {
            throw new InvalidDataException("negative vocabulary size");
        }

        var vocab = new IdVocabulary(count);
        for (var i = 0; i < count; i++)
        {
            vocab.GetOrAdd(r.ReadString());
        }

        return vocab;
    }

    private static void WriteArray<T>(BinaryWriter w, T[] values)
        where T : unmanaged
    {
        w.Write(values.Length);
        w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static T[] ReadArray<T>(BinaryReader r)
        where T : unmanaged
    {
        var length = r.ReadInt32();
        var remaining = r.BaseStream.Length - r.BaseStream.Position;
        if (length < 0 || (long)length * Marshal.SizeOf<T>() > remaining)
        {
            throw new InvalidDataException($"array length {length} exceeds the file");
        }

        var values = new T[length];
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }
}
