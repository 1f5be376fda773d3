using System.Globalization;
using SharpTune.Tests.Support;
using SharpTune.Training.Reporting;

namespace SharpTune.Tests.Training.Reporting;

public class EmaSmoothingTests
{
    [Fact]
    public void WeightFollowsLlamaFactorysSigmoid()
    {
        // 1.8 * (1/(1+e^-0.05) - 0.5): e^-0.05 = 0.951229424500714, 1/1.951229424500714 = 0.512497396484...
        Assert.Equal(0.0224953136, EmaSmoothing.Weight(1), 9);
        // n = 40: e^-2 = 0.1353352832366127 → 1/1.1353352832366127 = 0.8807970779778823
        Assert.Equal(1.8 * (0.8807970779778823 - 0.5), EmaSmoothing.Weight(40), 12);
        Assert.Equal(0.9, EmaSmoothing.Weight(10_000), 12); // the sigmoid's limit
    }

    [Fact]
    public void SmoothStartsAtTheFirstValueAndMixesEachNextOneByTheWeight()
    {
        double[] x = [2.0, 1.0, 1.5, 0.5, 0.25];
        double w = 1.8 * (1 / (1 + Math.Exp(-0.05 * 5)) - 0.5);
        double s0 = x[0];
        double s1 = w * s0 + (1 - w) * x[1];
        double s2 = w * s1 + (1 - w) * x[2];
        double s3 = w * s2 + (1 - w) * x[3];
        double s4 = w * s3 + (1 - w) * x[4];
        var got = EmaSmoothing.Smooth(x);
        Assert.Equal([s0, s1, s2, s3, s4], got);
        Assert.Empty(EmaSmoothing.Smooth([]));
    }

    [Fact]
    public void MatchesAPythonTranscriptionOfTheFormulaOnALongSeries()
    {
        var python = "/usr/bin/python3";
        TestEnvironment.RequireOracle(File.Exists(python), "python3");
        var rng = new Random(5);
        var x = Enumerable.Range(0, 137).Select(i => 2.5 * Math.Exp(-i / 40.0) + rng.NextDouble() * 0.3).ToArray();
        // The formula as LLaMA-Factory's ploting.smooth states it, evaluated by Python's floats.
        const string script = """
            import json, math, sys
            xs = json.load(sys.stdin)
            w = 1.8 * (1 / (1 + math.exp(-0.05 * len(xs))) - 0.5)
            last, out = xs[0], []
            for v in xs:
                last = last * w + (1 - w) * v
                out.append(last)
            print(json.dumps([repr(v) for v in out]))
            """;
        var input = "[" + string.Join(",", x.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
        var (code, stdout, stderr) = ProcessRunner.Run(python, ["-c", script], input);
        Assert.True(code == 0, stderr);
        var expected = System.Text.Json.JsonSerializer.Deserialize<string[]>(stdout)!.Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(expected, EmaSmoothing.Smooth(x)); // bit-identical: same operations in the same order
    }
}
