using YamlDotNet.RepresentationModel;

namespace MIC.Streaming.Deploy.Tests;

public sealed class HelmChartTests
{
    private const string Chart = "helm/mic-streaming";

    private static List<YamlMappingNode> Render(string extra = "")
    {
        var (code, output) = Repo.Run(Repo.Helm(), $"template rel {Chart} --namespace mic {extra}");
        Assert.True(code == 0, output);
        return Repo.Documents(output);
    }

    private static YamlMappingNode Kind(List<YamlMappingNode> docs, string kind) =>
        docs.Single(d => d.Text("kind") == kind);

    /// <summary>The serving or the trainer Deployment.</summary>
    private static YamlMappingNode Deployment(List<YamlMappingNode> docs, string component = "serving") =>
        docs.Single(d => d.Text("kind") == "Deployment" && d.Text("metadata", "labels", "app.kubernetes.io/component") == component);

    [Theory]
    [InlineData("")]
    [InlineData("-f helm/mic-streaming/values-production.yaml")]
    public void Lint_Strict_IsClean(string values)
    {
        var (code, output) = Repo.Run(Repo.Helm(), $"lint --strict {Chart} {values}");

        Assert.True(code == 0, output);
        Assert.Contains("0 chart(s) failed", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deployment_Default_IsHardenedProbedAndOrleansLabelled()
    {
        var deployment = Deployment(Render());
        var pod = deployment.At("spec", "template")!;
        var container = pod.At("spec", "containers", "0")!;

        Assert.Equal("mic-streaming", pod.Text("metadata", "labels", "orleans/serviceId"));
        Assert.Equal("mic", pod.Text("metadata", "labels", "orleans/clusterId"));
        Assert.Equal("true", pod.Text("spec", "securityContext", "runAsNonRoot"));
        Assert.Equal("true", container.Text("securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("false", container.Text("securityContext", "allowPrivilegeEscalation"));
        Assert.Equal("ALL", container.Text("securityContext", "capabilities", "drop", "0"));
        Assert.Equal("/health/ready", container.Text("readinessProbe", "httpGet", "path"));
        Assert.Equal("/health/live", container.Text("livenessProbe", "httpGet", "path"));
        Assert.Equal("0", deployment.Text("spec", "strategy", "rollingUpdate", "maxUnavailable"));
        var env = ((YamlSequenceNode)container.At("env")!).Children.Select(e => e.Text("name")).ToHashSet();
        Assert.Superset(new HashSet<string?> { "POD_NAME", "POD_NAMESPACE", "POD_IP", "ORLEANS_SERVICE_ID", "ORLEANS_CLUSTER_ID" }, env);
        Assert.Equal("/models", container.Text("volumeMounts", "0", "mountPath"));
    }

    [Fact]
    public void ShutdownTimeout_IsShorterThanTheGracePeriod()
    {
        var docs = Render("--set serving.terminationGracePeriodSeconds=90");
        var grace = int.Parse(Deployment(docs).Text("spec", "template", "spec", "terminationGracePeriodSeconds")!, System.Globalization.CultureInfo.InvariantCulture);
        var shutdown = TimeSpan.Parse(Kind(docs, "ConfigMap").Text("data", "HostOptions__ShutdownTimeout")!, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(90, grace);
        Assert.True(shutdown < TimeSpan.FromSeconds(grace), $"{shutdown} vs {grace} s");
        Assert.Equal(TimeSpan.FromSeconds(80), shutdown);
    }

    [Fact]
    public void Default_HasCpuHpaPdbAndPodRbacForKubernetesHosting()
    {
        var docs = Render();

        var hpa = Kind(docs, "HorizontalPodAutoscaler");
        Assert.Equal("cpu", hpa.Text("spec", "metrics", "0", "resource", "name"));
        Assert.Equal("1", Kind(docs, "PodDisruptionBudget").Text("spec", "minAvailable"));
        var role = Kind(docs, "Role");
        Assert.Equal("pods", role.Text("rules", "0", "resources", "0"));
        var verbs = ((YamlSequenceNode)role.At("rules", "0", "verbs")!).Children.Select(v => ((YamlScalarNode)v).Value).ToList();
        Assert.Superset(new HashSet<string?> { "get", "list", "watch", "delete" }, verbs.ToHashSet());
        Assert.Equal("true", Kind(docs, "ConfigMap").Text("data", "Silo__KubernetesHosting"));
        Assert.DoesNotContain(docs, d => d.Text("kind") == "ServiceMonitor");
    }

    [Fact]
    public void Production_ScalesOnRequestRate_UsesSecretsAndDedicatedNodes()
    {
        var docs = Render("-f helm/mic-streaming/values-production.yaml");

        var hpa = Kind(docs, "HorizontalPodAutoscaler");
        Assert.Equal("Pods", hpa.Text("spec", "metrics", "1", "type"));
        Assert.Equal("60", hpa.Text("spec", "maxReplicas"));
        Assert.Equal("4", Kind(docs, "PodDisruptionBudget").Text("spec", "minAvailable"));
        var pod = Deployment(docs).At("spec", "template", "spec")!;
        Assert.Equal("mic-serving", pod.Text("nodeSelector", "node-pool"));
        Assert.Equal("dedicated", pod.Text("tolerations", "0", "key"));
        var env = (YamlSequenceNode)pod.At("containers", "0", "env")!;
        var redis = env.Children.Single(e => e.Text("name") == "Silo__Redis");
        Assert.Equal("mic-streaming-secrets", redis.Text("valueFrom", "secretKeyRef", "name"));
        Assert.Equal("SASL_SSL", Kind(docs, "ConfigMap").Text("data", "Kafka__Client__security.protocol"));
        Assert.Single(docs, d => d.Text("kind") == "ServiceMonitor");
        Assert.DoesNotContain(docs, d => d.Text("kind") == "PersistentVolumeClaim"); // existingClaim
    }

    [Fact]
    public void Schema_RejectsAWrongType()
    {
        var (code, output) = Repo.Run(Repo.Helm(), $"template rel {Chart} --set serving.replicas=lots");

        Assert.NotEqual(0, code);
        Assert.Contains("replicas", output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryValue_HasAComment()
    {
        // Sections (indent 0) and their values (indent 2) each carry a comment line right above;
        // deeper keys sit inside a value whose comment describes them (resources.requests…).
        var lines = File.ReadAllLines(Repo.PathOf(Chart + "/values.yaml"));
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            var indent = lines[i].Length - trimmed.Length;
            if (indent > 2 || trimmed.Length == 0 || trimmed.StartsWith('#') || trimmed.StartsWith('-') || !trimmed.Contains(':', StringComparison.Ordinal))
            {
                continue;
            }

            var above = i > 0 ? lines[i - 1].TrimStart() : "";
            Assert.True(above.StartsWith('#'), $"values.yaml:{i + 1} '{trimmed}' has no comment right above");
        }
    }

    [Fact]
    public void ProductionValues_MatchTheirRowOfTheCapacityTable()
    {
        // docs/CAPACITY.md row 9 (generated from the measured unit costs) names the pods, shards and
        // memory values-production.yaml must have; this keeps the two from drifting apart.
        var row = File.ReadAllLines(Repo.PathOf("docs/CAPACITY.md")).Single(l => l.StartsWith("| 9 |", StringComparison.Ordinal))
            .Split('|', StringSplitOptions.TrimEntries);
        Assert.Equal(["10 M", "10 M", "1 k", "10 k", "sharded"], row[2..7]);
        var pods = int.Parse(row[7].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        var shards = row[8];
        var memory = double.Parse(row[9].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

        var docs = Render("-f helm/mic-streaming/values-production.yaml");
        var serving = Deployment(docs).At("spec")!;
        Assert.Equal(pods.ToString(System.Globalization.CultureInfo.InvariantCulture), serving.Text("replicas") ?? Kind(docs, "HorizontalPodAutoscaler").Text("spec", "minReplicas"));
        Assert.Equal("Sharded", Kind(docs, "ConfigMap").Text("data", "Serving__Mode"));
        Assert.Equal(shards, Kind(docs, "ConfigMap").Text("data", "Serving__Shards"));
        var requested = serving.Text("template", "spec", "containers", "0", "resources", "requests", "memory")!;
        Assert.True(double.Parse(requested.TrimEnd('G', 'i'), System.Globalization.CultureInfo.InvariantCulture) >= memory, $"{requested} < the row's {memory} GiB per pod");
        var trainer = Deployment(docs, "trainer").At("spec", "template", "spec", "containers", "0")!;
        var env = ((YamlSequenceNode)trainer.At("env")!).Children.ToDictionary(e => e.Text("name")!, e => e.Text("value"));
        Assert.Equal("10000000", env["Trainer__MaxUsers"]);
    }

    [Fact]
    public void TrainerDeployment_GpuValues_RequestGpusOnTheGpuPool_AndStayOutOfTheServingService()
    {
        var docs = Render("-f helm/mic-streaming/values-production.yaml");
        var trainer = Deployment(docs, "trainer");
        var pod = trainer.At("spec", "template")!;
        var container = pod.At("spec", "containers", "0")!;
        var env = ((YamlSequenceNode)container.At("env")!).Children.ToDictionary(e => e.Text("name")!, e => e.Text("value"));

        Assert.Equal("1", container.Text("resources", "limits", "nvidia.com/gpu"));
        Assert.Equal("gpu", pod.Text("spec", "nodeSelector", "node-pool"));
        Assert.Equal("nvidia.com/gpu", pod.Text("spec", "tolerations", "0", "key"));
        Assert.Equal("trainer", env["Silo__Roles"]);
        Assert.Equal("cuda", env["Trainer__Device"]);
        Assert.Equal("mic-streaming", pod.Text("metadata", "labels", "orleans/serviceId"));
        Assert.Equal("true", container.Text("securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("trainer", trainer.Text("spec", "selector", "matchLabels", "app.kubernetes.io/component"));
        // The API Service routes to serving silos only; the network policy admits both kinds of silo.
        Assert.Equal("serving", Kind(docs, "Service").Text("spec", "selector", "app.kubernetes.io/component"));
        Assert.Null(Kind(docs, "NetworkPolicy").At("spec", "podSelector", "matchLabels", "app.kubernetes.io/component"));
        Assert.True(TimeSpan.Parse(env["HostOptions__ShutdownTimeout"]!, System.Globalization.CultureInfo.InvariantCulture).TotalSeconds
            < int.Parse(pod.Text("spec", "terminationGracePeriodSeconds")!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void TrainerDeployment_IndexValues_ReachTheTrainerSettings()
    {
        // The names are TrainerOptions' keys (Trainer:IndexMaxBytesPerVector …), whose binding and
        // validation at start-up the Streaming ConfigurationTests check.
        var container = Deployment(Render("--set trainer.index.maxBytesPerVector=136 --set trainer.index.recallFloor=0.9 --set trainer.userIndexWindow=30.00:00:00 --set trainer.maxUsers=20000000 --set trainer.reuseFreedMemory=false"), "trainer").At("spec", "template", "spec", "containers", "0")!;
        var env = ((YamlSequenceNode)container.At("env")!).Children.ToDictionary(e => e.Text("name")!, e => e.Text("value"));

        Assert.Equal("136", env["Trainer__IndexMaxBytesPerVector"]);
        Assert.Equal("0.9", env["Trainer__IndexRecallFloor"]);
        Assert.Equal("30.00:00:00", env["Trainer__UserIndexWindow"]);
        Assert.Equal("20000000", env["Trainer__MaxUsers"]);
        Assert.Equal("false", env["Trainer__ReuseFreedMemory"]);
        Assert.Equal("true", ((YamlSequenceNode)Deployment(Render(string.Empty), "trainer").At("spec", "template", "spec", "containers", "0", "env")!).Children.Single(e => e.Text("name") == "Trainer__ReuseFreedMemory").Text("value"));
    }

    [Fact]
    public void ServingIndexValues_ReachTheConfigMapBothDeploymentsRead()
    {
        // The keys are ServingOptions' (Serving:Mode …); ConfigurationTests check the silo binds them.
        var docs = Render("--set serving.index.mode=Sharded --set serving.index.shards=12 --set serving.index.replicas=2 --set serving.index.budget=00:00:00.250 --set serving.index.shardedAbove=30000000");
        var data = Kind(docs, "ConfigMap");

        Assert.Equal("Sharded", data.Text("data", "Serving__Mode"));
        Assert.Equal("12", data.Text("data", "Serving__Shards"));
        Assert.Equal("2", data.Text("data", "Serving__ShardReplicas"));
        Assert.Equal("00:00:00.250", data.Text("data", "Serving__ShardBudget"));
        Assert.Equal("30000000", data.Text("data", "Serving__ShardedAbove"));
        var configMap = data.Text("metadata", "name");
        foreach (var component in new[] { "serving", "trainer" })
        {
            var container = Deployment(docs, component).At("spec", "template", "spec", "containers", "0")!;
            Assert.Contains(((YamlSequenceNode)container.At("envFrom")!).Children, e => e.Text("configMapRef", "name") == configMap);
        }
    }

    [Fact]
    public void TrainerDeployment_Default_IsCpuOnly_AndCanBeTurnedOff()
    {
        var container = Deployment(Render(), "trainer").At("spec", "template", "spec", "containers", "0")!;

        Assert.Null(container.At("resources", "limits", "nvidia.com/gpu"));
        Assert.DoesNotContain(Render("--set trainer.enabled=false"), d => d.Text("kind") == "Deployment" && d.Text("metadata", "labels", "app.kubernetes.io/component") == "trainer");
    }
}
