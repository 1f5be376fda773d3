using System.Runtime.InteropServices;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Numerics;
using SharpTune.Tests.Support;
using SharpTune.Training;

namespace SharpTune.Tests.Training;

public class PeftAdapterSaveLoadTests
{
    [Fact]
    public void SaveThenLoadIsBitIdentical()
    {
        using var dir = TestEnvironment.TempDir();
        var config = PeftTestAdapters.Config();
        var lora = new LoraConfig { Rank = 4, Alpha = 12.5, Dropout = 0.1, UseRslora = true };
        var saved = PeftTestAdapters.Random(config, lora);
        PeftAdapter.Save(dir.File("a"), saved, null);

        var loaded = PeftAdapter.Load(dir.File("a"), config);
        Assert.Equal((4, 12.5, 0.1, true), (loaded.Config.Rank, loaded.Config.Alpha, loaded.Config.Dropout, loaded.Config.UseRslora));
        Assert.Equal(LoraTargets.All, loaded.Config.Targets);
        Assert.Equal(saved.Modules.Count, loaded.Modules.Count);
        for (int i = 0; i < saved.Modules.Count; i++)
        {
            var (s, l) = (saved.Modules[i], loaded.Modules[i]);
            Assert.Equal((s.Layer, s.Target, s.OutFeatures, s.InFeatures), (l.Layer, l.Target, l.OutFeatures, l.InFeatures));
            Assert.Equal(MemoryMarshal.AsBytes(s.A.AsSpan()).ToArray(), MemoryMarshal.AsBytes(l.A.AsSpan()).ToArray());
            Assert.Equal(MemoryMarshal.AsBytes(s.B.AsSpan()).ToArray(), MemoryMarshal.AsBytes(l.B.AsSpan()).ToArray());
        }
        // Saving the loaded adapter again gives the same files.
        PeftAdapter.Save(dir.File("b"), loaded, null);
        foreach (var f in (string[])[PeftAdapter.ConfigFileName, PeftAdapter.WeightsFileName])
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("a"), f)), File.ReadAllBytes(Path.Combine(dir.File("b"), f)));
    }

    [Fact]
    public void AdapterConfigJsonIsWhatPeftSavePretrainedWrites()
    {
        using var dir = TestEnvironment.TempDir();
        PeftTestAdapters.Write(dir.File("a"), PeftTestAdapters.Config());
        // json.dumps(config.to_dict(), indent=2, sort_keys=True): sorted keys, two-space indent, no final newline.
        const string expected = """
            {
              "alpha_pattern": {},
              "auto_mapping": null,
              "base_model_name_or_path": "base/model",
              "bias": "none",
              "corda_config": null,
              "eva_config": null,
              "exclude_modules": null,
              "fan_in_fan_out": false,
              "inference_mode": true,
              "init_lora_weights": true,
              "layer_replication": null,
              "layers_pattern": null,
              "layers_to_transform": null,
              "loftq_config": {},
              "lora_alpha": 16,
              "lora_bias": false,
              "lora_dropout": 0.05,
              "megatron_config": null,
              "megatron_core": "megatron.core",
              "modules_to_save": null,
              "peft_type": "LORA",
              "r": 8,
              "rank_pattern": {},
              "revision": null,
              "target_modules": [
                "q_proj",
                "v_proj"
              ],
              "task_type": "CAUSAL_LM",
              "trainable_token_indices": null,
              "use_dora": false,
              "use_rslora": false
            }
            """;
        Assert.Equal(expected, File.ReadAllText(Path.Combine(dir.File("a"), PeftAdapter.ConfigFileName)));
    }

    [Theory]
    [InlineData(0.0, "0.0")]
    [InlineData(0.05, "0.05")]
    [InlineData(1e-05, "1e-05")]
    public void DropoutIsWrittenAsPythonPrintsAFloat(double dropout, string text)
    {
        using var dir = TestEnvironment.TempDir();
        var config = PeftTestAdapters.Config();
        PeftAdapter.Save(dir.File("a"), LoraInitializer.Initialize(config, PeftTestAdapters.QV() with { Dropout = dropout, Alpha = 0.5 }, 1), "modèle \"x\"");
        var json = File.ReadAllText(Path.Combine(dir.File("a"), PeftAdapter.ConfigFileName));
        Assert.Contains($"\"lora_dropout\": {text},", json);
        Assert.Contains("\"lora_alpha\": 0.5,", json);
        Assert.Contains("\"base_model_name_or_path\": \"mod\\u00e8le \\\"x\\\"\",", json); // ensure_ascii, as json.dumps
        Assert.Equal(dropout, PeftAdapter.Load(dir.File("a"), config).Config.Dropout);
    }

    [Fact]
    public void WeightsUsePeftKeysShapesF32AndFormatMetadata()
    {
        using var dir = TestEnvironment.TempDir();
        var config = PeftTestAdapters.Config();
        PeftTestAdapters.Write(dir.File("a"), config);
        using var reader = SafetensorsReader.Open(Path.Combine(dir.File("a"), PeftAdapter.WeightsFileName));
        Assert.Equal("pt", reader.Metadata["format"]);
        Assert.Single(reader.Metadata);
        string[] expected =
        [
            "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
            "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight",
            "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
            "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight",
            "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
            "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight",
            "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight",
        ];
        Assert.Equal(expected, reader.Names);
        Assert.All(reader.Names, n => Assert.Equal(TensorDType.F32, reader.GetInfo(n).DType));
        Assert.Equal([8L, 36], reader.GetInfo(expected[0]).Shape);  // [r, hidden]
        Assert.Equal([40L, 8], reader.GetInfo(expected[1]).Shape);  // [heads·head_dim, r]
        Assert.Equal([20L, 8], reader.GetInfo(expected[3]).Shape);  // [kv_heads·head_dim, r]
    }

    [Fact]
    public void KeysWithTheDefaultAdapterNameAndBf16OrF16TensorsLoad()
    {
        using var dir = TestEnvironment.TempDir();
        var config = PeftTestAdapters.Config();
        var saved = PeftTestAdapters.Write(dir.File("a"), config);
        PeftTestAdapters.RewriteWeights(dir.File("a"), (copy, reader) =>
        {
            foreach (var name in reader.Names)
            {
                var values = reader.ReadSingles(name);
                var newName = name.Replace(".weight", ".default.weight", StringComparison.Ordinal);
                if (name.Contains("q_proj", StringComparison.Ordinal))
                {
                    var bits = values.Select(BFloat16.FromSingle).ToArray();
                    copy.Add(newName, TensorDType.BF16, reader.GetInfo(name).Shape, MemoryMarshal.AsBytes(bits.AsSpan()));
                }
                else
                {
                    var halves = values.Select(v => (Half)v).ToArray();
                    copy.Add(newName, TensorDType.F16, reader.GetInfo(name).Shape, MemoryMarshal.AsBytes(halves.AsSpan()));
                }
            }
        });
        var loaded = PeftAdapter.Load(dir.File("a"), config);
        for (int i = 0; i < saved.Modules.Count; i++)
        {
            var (s, l) = (saved.Modules[i], loaded.Modules[i]);
            Func<float, float> round = s.Target == LoraTarget.QProj ? v => BFloat16.ToSingle(BFloat16.FromSingle(v)) : v => (float)(Half)v;
            Assert.Equal(s.A.Select(round), l.A);
            Assert.Equal(s.B.Select(round), l.B);
        }
    }

    [Fact]
    public void AFailedSaveLeavesNoFolderAndANonEmptyFolderIsRefused()
    {
        using var dir = TestEnvironment.TempDir();
        var config = PeftTestAdapters.Config();
        var good = PeftTestAdapters.Random(config, PeftTestAdapters.QV());
        var bad = good with { Modules = [good.Modules[0] with { A = new float[3] }, .. good.Modules.Skip(1)] };
        // The module is checked after adapter_config.json was written into the temporary folder: that folder must go too.
        Assert.Throws<ArgumentException>(() => PeftAdapter.Save(dir.File("out"), bad, null));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));

        Directory.CreateDirectory(dir.File("full"));
        File.WriteAllText(dir.File("full/keep.txt"), "x");
        var e = Assert.Throws<UserException>(() => PeftAdapter.Save(dir.File("full"), good, null));
        Assert.Contains(dir.File("full"), e.Message);
        Assert.Contains("not empty", e.Message);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(dir.File("full")).Select(Path.GetFileName));

        Directory.CreateDirectory(dir.File("empty"));
        PeftAdapter.Save(dir.File("empty"), good, null);
        Assert.True(File.Exists(Path.Combine(dir.File("empty"), PeftAdapter.WeightsFileName)));
    }

    [Fact]
    public void SaveReplacingSwapsAnAdapterFolderAndRefusesOtherFolders()
    {
        using var dir = TestEnvironment.TempDir();
        var config = PeftTestAdapters.Config();
        var first = PeftTestAdapters.Random(config, PeftTestAdapters.QV(), seed: 1);
        var second = PeftTestAdapters.Random(config, PeftTestAdapters.QV(), seed: 2);
        var ckpt = dir.File("checkpoint");
        PeftAdapter.SaveReplacing(ckpt, first, null);          // new folder
        File.WriteAllText(Path.Combine(ckpt, "trainer_state.json"), "{}");
        PeftAdapter.SaveReplacing(ckpt, second, null);         // replaced: the whole folder, stray files included
        Assert.Equal(second.Modules[0].B, PeftAdapter.Load(ckpt, config).Modules[0].B);
        Assert.False(File.Exists(Path.Combine(ckpt, "trainer_state.json")));
        Assert.Equal(["checkpoint"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName)); // no .tmp/.old left

        Directory.CreateDirectory(dir.File("other"));
        File.WriteAllText(dir.File("other/notes.txt"), "x");
        var e = Assert.Throws<UserException>(() => PeftAdapter.SaveReplacing(dir.File("other"), first, null));
        Assert.Contains("adapter_config.json", e.Message);
        Assert.True(File.Exists(dir.File("other/notes.txt")));
    }
}
