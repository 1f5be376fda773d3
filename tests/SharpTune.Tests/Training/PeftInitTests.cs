using SharpTune.Training;

namespace SharpTune.Tests.Training;

public class PeftInitTests
{
    [Fact]
    public void AIsKaimingUniformAndBIsZeroForEveryLayerAndTarget()
    {
        var config = PeftTestAdapters.Config(hidden: 96, intermediate: 130);
        var lora = new LoraConfig { Rank = 16, Alpha = 32 };
        var adapter = LoraInitializer.Initialize(config, lora, 42);

        Assert.Same(lora, adapter.Config);
        Assert.Equal(config.NumLayers * 7, adapter.Modules.Count);
        int i = 0;
        for (int layer = 0; layer < config.NumLayers; layer++)
            foreach (var target in LoraTargets.All)
            {
                var m = adapter.Modules[i++];
                Assert.Equal((layer, target), (m.Layer, m.Target));
                Assert.Equal(target.Shape(config), (m.OutFeatures, m.InFeatures));
                Assert.Equal(16 * m.InFeatures, m.A.Length);
                Assert.Equal(m.OutFeatures * 16, m.B.Length);
                Assert.Equal(16, m.Rank);
                Assert.All(m.B, b => Assert.Equal(0f, b));

                // kaiming_uniform_(a=√5) on [r, in]: U(-1/√in, 1/√in), variance bound²/3.
                double bound = 1 / Math.Sqrt(m.InFeatures);
                Assert.All(m.A, a => Assert.InRange(Math.Abs(a), 0, (float)bound));
                double mean = m.A.Average(a => (double)a);
                double variance = m.A.Average(a => (a - mean) * (a - mean));
                double sigma = bound / Math.Sqrt(3);
                Assert.InRange(mean, -5 * sigma / Math.Sqrt(m.A.Length), 5 * sigma / Math.Sqrt(m.A.Length));
                Assert.InRange(variance / (sigma * sigma), 0.85, 1.15);
                Assert.True(m.A.Max() > 0.97 * bound && m.A.Min() < -0.97 * bound, "samples should reach both ends of the interval");
            }
    }

    [Fact]
    public void SameSeedSameBytesOtherSeedOtherValuesAndModulesIndependentOfTheTargetList()
    {
        var config = PeftTestAdapters.Config();
        var all = new LoraConfig { Rank = 4, Alpha = 8 };
        var a = LoraInitializer.Initialize(config, all, 7);
        var b = LoraInitializer.Initialize(config, all, 7);
        var c = LoraInitializer.Initialize(config, all, 8);
        for (int i = 0; i < a.Modules.Count; i++)
        {
            Assert.Equal(a.Modules[i].A, b.Modules[i].A);
            Assert.NotEqual(a.Modules[i].A, c.Modules[i].A);
        }
        // Keyed by tensor name: the q_proj of layer 1 does not depend on which other targets exist.
        var qOnly = LoraInitializer.Initialize(config, all with { Targets = [LoraTarget.QProj] }, 7);
        Assert.Equal(config.NumLayers, qOnly.Modules.Count);
        Assert.Equal(a.Modules.Single(m => m.Layer == 1 && m.Target == LoraTarget.QProj).A, qOnly.Modules[1].A);
        // Different modules get different streams.
        Assert.NotEqual(a.Modules[0].A.Take(8), a.Modules[1].A.Take(8));
    }

    [Fact]
    public void TheGeneratorIsExactlyTheDocumentedOne()
    {
        var config = PeftTestAdapters.Config();
        ulong seed = 123456789;
        var adapter = LoraInitializer.Initialize(config, new LoraConfig { Rank = 2, Alpha = 4, Targets = [LoraTarget.DownProj] }, seed);
        var m = adapter.Modules[1];
        const string name = "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight";

        // Independent re-implementation of the XML doc: key = mix(seed ^ mix(fnv1a64(name))), u_j = (mix(key + j) >> 11)·2^-53.
        static ulong Mix(ulong z)
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
        ulong h = 14695981039346656037UL;
        foreach (char ch in name) { h ^= ch; h *= 1099511628211UL; }
        ulong key = Mix(seed ^ Mix(h));
        double bound = 1 / Math.Sqrt(config.IntermediateSize);
        for (int j = 0; j < m.A.Length; j++)
        {
            double u = (Mix(key + (ulong)j) >> 11) / 9007199254740992.0;
            Assert.Equal((float)((2 * u - 1) * bound), m.A[j]);
        }
    }

    [Fact]
    public void InvalidHyperParametersAreUserErrors()
    {
        var e = Assert.Throws<UserException>(() => LoraInitializer.Initialize(PeftTestAdapters.Config(), new LoraConfig { Rank = 0 }, 1));
        Assert.Contains("rank (r)", e.Message);
    }
}
