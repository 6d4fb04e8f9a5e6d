using YamlDotNet.RepresentationModel;

namespace MIC.Streaming.Deploy.Tests;

/// <summary>
/// What outside probes of the deployment artefacts found: compose could not start (root-owned model
/// volume), the trainer was never scraped, no alert rules shipped, the schema accepted anything,
/// host build outputs entered images.
/// </summary>
public sealed class OperabilityTests
{
    private const string Chart = "helm/mic-streaming";
    private const string Rules = "helm/mic-streaming/files/alert-rules.yml";

    private static YamlMappingNode Compose()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Repo.PathOf("docker-compose.yml"))));
        return (YamlMappingNode)stream.Documents[0].RootNode.At("services")!;
    }

    private static (int Code, string Output) Template(string extra) => Repo.Run(Repo.Helm(), $"template rel {Chart} --namespace mic {extra}");

    [Fact]
    public void AlertRules_PassPromtool()
    {
        // Debian's prometheus package (scripts/prereqs.sh) provides promtool.
        var (code, output) = Repo.Run("promtool", $"check rules {Rules}");

        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public void AlertRules_CoverEverySignalOfOperationsMd()
    {
        var rules = File.ReadAllText(Repo.PathOf(Rules));

        foreach (var metric in new[] { "mic_ingest_lag", "mic_ingest_dead_lettered_total", "mic_ingest_rewinds_total", "mic_ingest_freshness_milliseconds_bucket",
                     "mic_serving_retrieve_duration_milliseconds_bucket", "mic_serving_model_version", "http_server_request_duration_seconds_count",
                     "mic_trainer_model_version", "mic_trainer_publish_lag_milliseconds_bucket", "mic_trainer_online_recall", "mic_serving_stale_sequence_reads_total" })
        {
            Assert.Contains(metric, rules, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Chart_PrometheusRule_IsTheRulesFile_AndTheTrainerIsScraped()
    {
        var (code, output) = Template("--set prometheusRule.enabled=true --set serviceMonitor.enabled=true");
        Assert.True(code == 0, output);
        var docs = Repo.Documents(output);

        var rule = docs.Single(d => d.Text("kind") == "PrometheusRule");
        var groups = (YamlSequenceNode)rule.At("spec", "groups")!;
        var file = new YamlStream();
        file.Load(new StringReader(File.ReadAllText(Repo.PathOf(Rules))));
        Assert.Equal(((YamlSequenceNode)file.Documents[0].RootNode.At("groups")!).Children.Count, groups.Children.Count);
        Assert.Contains("{{ $value }}", output, StringComparison.Ordinal); // Prometheus templates pass through helm untouched

        // Before: only a ServiceMonitor on the serving Service; trainer pods have no Service
        var podMonitor = docs.Single(d => d.Text("kind") == "PodMonitor");
        Assert.Equal("trainer", podMonitor.Text("spec", "selector", "matchLabels", "app.kubernetes.io/component"));
        Assert.Equal("http", podMonitor.Text("spec", "podMetricsEndpoints", "0", "port"));
    }

    [Theory]
    [InlineData("--set autoscaling.minReplicas=5 --set autoscaling.maxReplicas=2", "maxReplicas")]
    [InlineData("--set serving.replicaz=3", "replicaz")]
    [InlineData("--set noSuchSection.enabled=true", "noSuchSection")]
    [InlineData("--set trainer.index.recallFloor=2", "recallFloor")]
    [InlineData("--set trainer.index.recallFloor=1.5", "recallFloor")]
    [InlineData("--set trainer.userIndexWindow=1h", "userIndexWindow")]
    [InlineData("--set serving.index.mode=Shardd", "mode")]
    [InlineData("--set serving.index.budget=500ms", "budget")]
    public void Chart_BadValues_FailNamingTheValue(string values, string named)
    {
        var (code, output) = Template(values);

        Assert.NotEqual(0, code);
        Assert.Contains(named, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Production_NetworkPolicy_AdmitsPrometheusAndOrleansClients()
    {
        var (code, output) = Template("-f helm/mic-streaming/values-production.yaml");
        Assert.True(code == 0, output);
        var policy = Repo.Documents(output).Single(d => d.Text("kind") == "NetworkPolicy");
        var rules = ((YamlSequenceNode)policy.At("spec", "ingress")!).Children;

        // The API rule opens the gateway to the client namespaces too (services using the Orleans client)
        Assert.Contains(rules, r => r.Text("ports", "1", "port") == "30000" && r.Text("from", "0", "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name") == "frontend");
        // And /metrics is reachable from the monitoring namespace (before: only frontend and ranking)
        Assert.Contains(rules, r => r.Text("ports", "0", "port") == "8080" && r.Text("from", "0", "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name") == "monitoring");
    }

    [Fact]
    public void Compose_ModelVolumeIsOwnedByTheImagesUser_BeforeAnyoneWrites()
    {
        var services = Compose();

        // Before: the named volume was root-owned and every image runs as uid 1654: nothing could write
        Assert.Equal("0:0", services.Text("models-init", "user"));
        Assert.Contains("chown -R 1654:1654 /models", services.Text("models-init", "command", "0"), StringComparison.Ordinal);
        Assert.Equal("service_completed_successfully", services.Text("bootstrap-model", "depends_on", "models-init", "condition"));
        Assert.Contains("1654", File.ReadAllText(Repo.PathOf("deploy/silo.Dockerfile")), StringComparison.Ordinal);
    }

    [Fact]
    public void Compose_Prometheus_ScrapesTheTrainer_AndLoadsTheRules()
    {
        var config = File.ReadAllText(Repo.PathOf("deploy/prometheus.yml"));
        var services = Compose();

        Assert.Contains("trainer:8080", config, StringComparison.Ordinal);
        Assert.Contains("/etc/prometheus/alert-rules.yml", config, StringComparison.Ordinal);
        Assert.Contains(((YamlSequenceNode)services.At("prometheus", "volumes")!).Children, v => ((YamlScalarNode)v).Value!.StartsWith("./" + Rules + ":", StringComparison.Ordinal));
        var (code, output) = Repo.Run("promtool", "check config --syntax-only deploy/prometheus.yml");
        Assert.True(code == 0 || output.Contains("alert-rules.yml", StringComparison.Ordinal), output); // the rules path exists only inside the container
    }

    [Fact]
    public void DockerIgnore_KeepsHostBuildOutputsOutOfImages()
    {
        var lines = File.ReadAllLines(Repo.PathOf(".dockerignore")).Select(l => l.Trim()).ToList();

        Assert.Contains("**/bin/", lines);
        Assert.Contains("**/obj/", lines);
        Assert.Contains(".git/", lines);
    }
}
