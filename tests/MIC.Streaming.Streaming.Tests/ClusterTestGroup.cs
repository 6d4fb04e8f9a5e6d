namespace MIC.Streaming.Streaming.Tests;

/// <summary>Cluster, Kafka and training tests run one at a time: they share 2 cores and loopback ports.</summary>
[CollectionDefinition("cluster", DisableParallelization = true)]
public sealed class ClusterTestGroup;
