namespace MIC.Streaming.Grains;

/// <summary>Names of the grain storage providers a silo must register (Redis in production, memory in the demo).</summary>
public static class StorageNames
{
    public const string Users = "users";
    public const string Items = "items";
    public const string Registry = "registry";
}
