using TorchSharp;
using static TorchSharp.torch;

namespace MIC.Streaming.Model.Tests;

[Collection("torch")]
public class ScalarsTests
{
    [Fact]
    public void A_Held_Scalar_Survives_Collections_During_Native_Calls()
    {
        // With `x.mul(0.5)` (an implicit, unreferenced Scalar) this loop failed 158 times in 3.6 million
        // calls ("Expected false to be true … toFloat"): the collector finalized the Scalar mid-call.
        var stop = 0;
        var collector = new Thread(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        using var x = torch.ones(4);
        long calls = 0, failures = 0;
        try
        {
            var until = DateTime.UtcNow.AddSeconds(3);
            while (DateTime.UtcNow < until)
            {
                for (var i = 0; i < 1000; i++, calls++)
                {
                    try
                    {
                        using var y = x.mul(Scalars.Of(0.5));
                        using var z = Scalars.Range(0, 4);
                        if (y.data<float>()[0] != 0.5f || z.data<long>()[3] != 3)
                        {
                            failures++;
                        }
                    }
                    catch (System.Runtime.InteropServices.ExternalException)
                    {
                        failures++;
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            collector.Join();
        }

        Assert.True(failures == 0, $"{failures} of {calls} calls failed");
    }

    [Fact]
    public void Scalars_Are_Cached_And_Keep_The_Kind_Of_Number()
    {
        Assert.Same(Scalars.Of(0.25), Scalars.Of(0.25));
        Assert.Same(Scalars.One, Scalars.Of(1));
        using var ids = torch.tensor(new long[] { 1, 2 });
        using var shifted = ids + Scalars.One;
        Assert.Equal(ScalarType.Int64, shifted.dtype); // an integer Scalar keeps ids integer
        Assert.Equal([2L, 3L], shifted.data<long>().ToArray());
        using var halves = ids * Scalars.Of(0.5);
        Assert.Equal([0.5f, 1f], halves.data<float>().ToArray());
    }
}
