using System.Runtime.InteropServices;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Numerics;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Training;

namespace SharpTune.Tests.Training;

public class AdapterMergeTests
{
    /// <summary>W + s·(B·A) by the definition: for each element, Σ_k B[o,k]·A[k,i] in k order, times s, plus W, all in float32.</summary>
    private static float[] Naive(float[] w, LoraModuleWeights m, int r, float s)
    {
        var result = new float[w.Length];
        for (int o = 0; o < m.OutFeatures; o++)
            for (int i = 0; i < m.InFeatures; i++)
            {
                float acc = 0;
                for (int k = 0; k < r; k++) acc += m.B[o * r + k] * m.A[k * m.InFeatures + i];
                result[o * m.InFeatures + i] = w[o * m.InFeatures + i] + acc * s;
            }
        return result;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void MergedWeightsEqualTheNaiveTripleLoopAndOthersAreCopied(bool bf16, bool rslora)
    {
        // Sizes chosen so rows split over several parallel tasks and rows end in a partial SIMD vector.
        var config = PeftTestAdapters.Config(hidden: 132, intermediate: 301);
        var lora = new LoraConfig { Rank = 16, Alpha = 24, UseRslora = rslora, Targets = LoraTargets.All };
        var adapter = PeftTestAdapters.Random(config, lora);
        using var baseWeights = RandomModels.Weights(config, 3, bf16);
        using var merged = AdapterMerger.MergeInto(baseWeights, config, adapter);

        float s = rslora ? (float)(24 / Math.Sqrt(16)) : 24f / 16;
        Assert.Equal(s, (float)lora.Scaling);
        Assert.Equal(baseWeights.Names, merged.Names);
        var adapted = adapter.Modules.ToDictionary(m => m.Target.BaseWeightName(m.Layer));
        foreach (var name in baseWeights.Names)
        {
            var info = baseWeights.GetInfo(name);
            Assert.Equal(info.DType, merged.GetInfo(name).DType);
            Assert.Equal(info.Shape, merged.GetInfo(name).Shape);
            if (!adapted.TryGetValue(name, out var m))
            {
                Assert.True(baseWeights.GetBytes(name).SequenceEqual(merged.GetBytes(name)), name);
                continue;
            }
            var expected = Naive(baseWeights.ReadSingles(name), m, 16, s);
            if (bf16)
            {
                var expectedBits = expected.Select(BFloat16.FromSingle).ToArray();
                Assert.Equal(expectedBits, MemoryMarshal.Cast<byte, ushort>(merged.GetBytes(name)).ToArray());
            }
            else Assert.Equal(expected, MemoryMarshal.Cast<byte, float>(merged.GetBytes(name)).ToArray());
            Assert.False(baseWeights.GetBytes(name).SequenceEqual(merged.GetBytes(name)), $"{name} should change");
        }
    }

    [Fact]
    public void AFreshAdapterMergesToTheBaseModel()
    {
        var config = PeftTestAdapters.Config();
        using var baseWeights = RandomModels.Weights(config, 4, bf16: true);
        using var merged = AdapterMerger.MergeInto(baseWeights, config, LoraInitializer.Initialize(config, new LoraConfig(), 1));
        foreach (var name in baseWeights.Names) Assert.True(baseWeights.GetBytes(name).SequenceEqual(merged.GetBytes(name)), name);
    }

    [Fact]
    public void ABaseWithoutTheAdaptedTensorOrWithAnotherShapeIsAUserError()
    {
        var config = PeftTestAdapters.Config();
        var adapter = PeftTestAdapters.Random(config, PeftTestAdapters.QV());
        var partial = new InMemoryTensorSource();
        partial.Add("model.embed_tokens.weight", [config.VocabSize, config.HiddenSize], new float[config.VocabSize * config.HiddenSize]);
        var e = Assert.Throws<UserException>(() => AdapterMerger.MergeInto(partial, config, adapter));
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", e.Message);

        var wrong = new InMemoryTensorSource();
        wrong.Add("model.layers.0.self_attn.q_proj.weight", [40, 35], new float[40 * 35]);
        e = Assert.Throws<UserException>(() => AdapterMerger.MergeInto(wrong, config, adapter));
        Assert.Contains("is [40, 35]; the adapter expects [40, 36]", e.Message);

        e = Assert.Throws<UserException>(() => AdapterMerger.MergeInto(RandomModels.Weights(PeftTestAdapters.Config(layers: 1), 1, false), PeftTestAdapters.Config(layers: 1), adapter));
        Assert.Contains("does not fit", e.Message);
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("bf16")]
    public void MergeFolderWritesAFullModelFolderThatOpens(string dtype)
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"), specialTokensMap: true);
        var modelDir = dir.File("model");
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, modelDir, "9", "--dtype", dtype)).Code);
        var config = ModelConfigJson.Load(modelDir);
        var adapter = PeftTestAdapters.Write(dir.File("adapter"), config, PeftTestAdapters.QV() with { Targets = [LoraTarget.VProj, LoraTarget.DownProj] });

        var returned = AdapterMerger.MergeFolder(modelDir, dir.File("adapter"), dir.File("merged"));
        Assert.Equal(adapter.Modules.Count, returned.Modules.Count);

        using var opened = ModelFolder.Open(dir.File("merged"));
        using var original = ModelFolder.Open(modelDir);
        using var expected = AdapterMerger.MergeInto(original.Weights, config, PeftAdapter.Load(dir.File("adapter"), config));
        Assert.Equal(original.Weights.Names, opened.Weights.Names);
        foreach (var name in original.Weights.Names)
        {
            Assert.True(expected.GetBytes(name).SequenceEqual(opened.Weights.GetBytes(name)), name);
            bool isAdapted = name.Contains("v_proj.weight", StringComparison.Ordinal) || name.Contains("down_proj.weight", StringComparison.Ordinal);
            Assert.Equal(!isAdapted, original.Weights.GetBytes(name).SequenceEqual(opened.Weights.GetBytes(name)));
        }
        Assert.Equal(dtype == "bf16" ? TensorDType.BF16 : TensorDType.F32, opened.Weights.GetInfo("model.layers.0.mlp.down_proj.weight").DType);
        foreach (var f in (string[])["config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
            Assert.Equal(File.ReadAllBytes(Path.Combine(modelDir, f)), File.ReadAllBytes(Path.Combine(dir.File("merged"), f)));
        Assert.Equal("pt", ((SafetensorsReader)opened.Weights).Metadata["format"]);
        Assert.Empty(Directory.GetDirectories(dir.Path, ".merged.tmp-*"));

        // The output must be new: merging again into it is refused and leaves it as it was.
        var e = Assert.Throws<UserException>(() => AdapterMerger.MergeFolder(modelDir, dir.File("adapter"), dir.File("merged")));
        Assert.Contains("not empty", e.Message);
    }
}
