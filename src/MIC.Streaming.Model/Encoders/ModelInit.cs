using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Encoders;

/// <summary>Xavier initialisation (the paper's setting) for embeddings and linear layers.</summary>
internal static class ModelInit
{
    public static void XavierEmbedding(Embedding embedding)
    {
        using var _ = torch.no_grad();
        nn.init.xavier_uniform_(embedding.weight!);
        embedding.weight![0].zero_(); // padding row stays zero
    }

    public static Linear XavierLinear(long input, long output)
    {
        var linear = nn.Linear(input, output);
        using var _ = torch.no_grad();
        nn.init.xavier_uniform_(linear.weight!);
        linear.bias!.zero_();
        return linear;
    }
}
