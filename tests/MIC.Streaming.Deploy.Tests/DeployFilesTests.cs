using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace MIC.Streaming.Deploy.Tests;

public sealed partial class DeployFilesTests
{
    [Theory]
    [InlineData("deploy/silo.Dockerfile", true)]
    [InlineData("deploy/cli.Dockerfile", false)]
    [InlineData("deploy/trainer.Dockerfile", true)]
    public void Dockerfile_PinsBases_RunsAsNonRoot_HasNoSecrets(string path, bool healthCheck)
    {
        var lines = File.ReadAllLines(Repo.PathOf(path));
        var froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(froms);
        Assert.All(froms, f => Assert.Matches(PinnedImage(), f));
        var finalStage = lines.SkipWhile(l => l != froms[^1]).ToList();
        var user = finalStage.LastOrDefault(l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.NotNull(user);
        Assert.DoesNotContain("root", user, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => SecretLike().IsMatch(l));
        Assert.Equal(healthCheck, finalStage.Any(l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("deploy/silo.Dockerfile")]
    [InlineData("deploy/trainer.Dockerfile")]
    public void SiloDockerfiles_RestoreEveryProjectTheSiloNeeds_BeforeCopyingSources(string path)
    {
        var lines = File.ReadAllLines(Repo.PathOf(path)).ToList();
        var restore = lines.FindIndex(l => l.Contains("dotnet restore", StringComparison.Ordinal));

        Assert.True(restore >= 0 && restore < lines.FindIndex(l => l.StartsWith("COPY src/ src/", StringComparison.Ordinal)));
        // The restore layer must copy every project file the silo references, directly or not.
        var copied = lines.Take(restore).Where(l => l.StartsWith("COPY ", StringComparison.Ordinal)).ToList();
        foreach (var project in ProjectClosure("src/MIC.Streaming.Silo/MIC.Streaming.Silo.csproj"))
        {
            Assert.Contains(copied, l => l.Contains(project, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void TrainerDockerfile_HasTheTrainerRole_AndTheCudaBuildSwitch()
    {
        var text = File.ReadAllText(Repo.PathOf("deploy/trainer.Dockerfile"));

        Assert.Contains("ARG TORCH_BACKEND=cpu", text, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Count(text, @"-p:MicTorchBackend=\$\{TORCH_BACKEND\}")); // restore and publish
        Assert.Contains("Silo__Roles=trainer", text, StringComparison.Ordinal);
    }

    /// <summary>Repository-relative paths of a project and every project it references, transitively.</summary>
    private static HashSet<string> ProjectClosure(string project)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!result.Add(current))
            {
                continue;
            }

            var dir = Path.GetDirectoryName(current)!;
            foreach (Match m in Regex.Matches(File.ReadAllText(Repo.PathOf(current)), "ProjectReference Include=\"([^\"]+)\""))
            {
                var full = Path.GetFullPath(Path.Combine(Repo.PathOf(dir), m.Groups[1].Value.Replace('\\', '/')));
                pending.Push(Path.GetRelativePath(Repo.PathOf("."), full).Replace('\\', '/'));
            }
        }

        return result;
    }

    [Fact]
    public void Compose_KraftKafka_LoopbackPorts_ObservabilityProfile()
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Repo.PathOf("docker-compose.yml"))));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var services = (YamlMappingNode)root.At("services")!;

        Assert.Contains("controller", services.Text("kafka", "environment", "KAFKA_PROCESS_ROLES"), StringComparison.Ordinal);
        foreach (var (name, service) in services.Children)
        {
            if (service.At("ports") is YamlSequenceNode ports)
            {
                Assert.All(ports.Children, p => Assert.StartsWith("127.0.0.1:", ((YamlScalarNode)p).Value, StringComparison.Ordinal));
            }
        }

        Assert.Equal("observability", services.Text("prometheus", "profiles", "0"));
        Assert.Equal("observability", services.Text("grafana", "profiles", "0"));
        Assert.NotNull(services.At("kafka-init"));
        Assert.NotNull(services.At("silo-1"));
        Assert.NotNull(services.At("silo-2"));
        Assert.Equal("trainer", services.Text("trainer", "environment", "Silo__Roles"));
        Assert.Equal("deploy/trainer.Dockerfile", services.Text("trainer", "build", "dockerfile"));
    }

    [Fact]
    public void Compose_ValidatesWithDockerCompose_WhereAvailable()
    {
        string output;
        int code;
        try
        {
            (code, output) = Repo.Run("docker", "compose version");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return; // no docker client on this machine
        }

        if (code != 0)
        {
            return; // docker client without the compose plugin (our reference machine): YAML checks above only
        }

        (code, output) = Repo.Run("docker", "compose -f docker-compose.yml config -q");
        Assert.True(code == 0, output);
    }

    [Fact]
    public void GrafanaDashboard_QueriesOurMetrics()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Repo.PathOf("deploy/grafana/dashboards/mic-streaming.json")));
        var exprs = doc.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!)).ToList();

        Assert.Contains(exprs, e => e.Contains("mic_ingest_applied_total", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("mic_ingest_lag", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("mic_serving_model_version", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("mic_trainer_online_recall", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("mic_serving_refresh_lag_milliseconds_bucket", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("mic_serving_channel_duration_milliseconds_bucket", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"^FROM [a-z0-9./-]+:\d[\w.-]*( AS \w+)?$")]
    private static partial Regex PinnedImage();

    [GeneratedRegex(@"(?i)(password|secret|api_?key|token)\s*=\s*\S+")]
    private static partial Regex SecretLike();
}
