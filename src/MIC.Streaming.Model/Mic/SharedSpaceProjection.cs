using MIC.Streaming.Model.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Mic;

/// <summary>
/// MIC "own spaces and shared space" (paper §3.3): users and items keep their own representation
/// spaces (used for the UU / II losses and the U2U / I2I channels), and a non-linear projection
/// head per side maps them into a shared user–item space (used for the UI loss and the U2I channel).
/// Relevance in every space is cosine. Head: Linear(D, D) → ReLU → Linear(D, D).
/// </summary>
public sealed class SharedSpaceProjection : nn.Module<Tensor, Tensor>
{
    private readonly Linear hidden;
    private readonly Linear output;

    public SharedSpaceProjection(string name, int dimension)
        : base(name)
    {
        hidden = ModelInit.XavierLinear(dimension, dimension);
        output = ModelInit.XavierLinear(dimension, dimension);
        RegisterComponents();
    }

    internal Linear Hidden => hidden;

    internal Linear Output => output;

    /// <summary>[..., D] own space → [..., D] shared space.</summary>
    public override Tensor forward(Tensor x) => output.forward(nn.functional.relu(hidden.forward(x)));
}
