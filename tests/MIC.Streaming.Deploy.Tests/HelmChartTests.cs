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
        var deployment = Kind(Render(), "Deployment");
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
        var grace = int.Parse(Kind(docs, "Deployment").Text("spec", "template", "spec", "terminationGracePeriodSeconds")!, System.Globalization.CultureInfo.InvariantCulture);
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
        var pod = Kind(docs, "Deployment").At("spec", "template", "spec")!;
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
}
