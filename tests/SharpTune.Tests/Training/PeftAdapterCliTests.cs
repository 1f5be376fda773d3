using SharpTune.Cli.CommandLine;
using SharpTune.Models;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Training;

namespace SharpTune.Tests.Training;

public class PeftAdapterCliTests
{
    [Fact]
    public void InfoPrintsTheHyperParametersModulesAndParameterCount()
    {
        using var dir = TestEnvironment.TempDir();
        PeftTestAdapters.Write(dir.File("a"), PeftTestAdapters.Config());
        var (code, stdout, err) = TinyModelFiles.Cli("adapter", "info", dir.File("a"));
        Assert.True(code == 0, err);
        Assert.Equal("", err);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"adapter: {dir.File("a")}", lines);
        Assert.Contains("base_model_name_or_path: base/model", lines);
        Assert.Contains("task_type: CAUSAL_LM", lines);
        Assert.Contains("r: 8", lines);
        Assert.Contains("lora_alpha: 16", lines);
        Assert.Contains("scaling: 2 (lora_alpha / r)", lines);
        Assert.Contains("lora_dropout: 0.05", lines);
        Assert.Contains("target_modules: q_proj, v_proj", lines);
        Assert.Contains("modules: 4 (2 layers × 2 targets)", lines);
        Assert.Contains("  self_attn.q_proj: A [8, 36], B [40, 8]", lines);
        Assert.Contains("  self_attn.v_proj: A [8, 36], B [20, 8]", lines);
        // per layer: q 8·(36+40) + v 8·(36+20) = 608 + 448; two layers
        Assert.Contains("parameters: 2,112", lines);
    }

    [Fact]
    public void InfoShowsRsloraScaling()
    {
        using var dir = TestEnvironment.TempDir();
        PeftTestAdapters.Write(dir.File("a"), PeftTestAdapters.Config(), PeftTestAdapters.QV(rslora: true));
        var (code, stdout, _) = TinyModelFiles.Cli("adapter", "info", dir.File("a"));
        Assert.Equal(0, code);
        Assert.Contains("scaling: 5.656854 (lora_alpha / sqrt(r), rsLoRA)", stdout);
    }

    [Fact]
    public void MergeWritesAModelFolder()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("llama", tok, dir.File("model"))).Code);
        PeftTestAdapters.Write(dir.File("adapter"), ModelConfigJson.Load(dir.File("model")));

        var (code, stdout, err) = TinyModelFiles.Cli("adapter", "merge", "--model", dir.File("model"), "--adapter", dir.File("adapter"), "--out", dir.File("merged"));
        Assert.True(code == 0, err);
        Assert.StartsWith($"wrote {dir.File("merged")}: merged 4 modules (r 8, scaling 2)", stdout);
        using var merged = ModelFolder.Open(dir.File("merged"));
        Assert.Equal(ModelArchitecture.Llama, merged.Config.Architecture);
    }

    [Fact]
    public void UserErrorsExitOneWithOneLine()
    {
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, dir.File("model"))).Code);
        PeftTestAdapters.Write(dir.File("adapter"), PeftTestAdapters.Config()); // hidden 36: does not fit the 32-wide model
        Directory.CreateDirectory(dir.File("full"));
        File.WriteAllText(dir.File("full/x"), "");
        PeftTestAdapters.Write(dir.File("dora"), PeftTestAdapters.Config());
        PeftTestAdapters.EditConfig(dir.File("dora"), o => o["use_dora"] = true);

        (string[] Args, string Message)[] cases =
        [
            (["adapter", "info", dir.File("missing")], $"error: {dir.File("missing")}: adapter folder not found"),
            (["adapter", "info", dir.File("dora")], $"error: {Path.Combine(dir.File("dora"), "adapter_config.json")}: use_dora is true"),
            (["adapter", "info"], "error: 'sharptune adapter info' expects DIR"),
            (["adapter", "merge", "--model", dir.File("model"), "--adapter", dir.File("adapter")], "error: missing required option --out"),
            (["adapter", "merge", "--model", dir.File("model"), "--adapter", dir.File("adapter"), "--out", dir.File("o")],
                $"error: {Path.Combine(dir.File("adapter"), "adapter_model.safetensors")}: tensors do not match"),
            (["adapter", "merge", "--model", dir.File("nomodel"), "--adapter", dir.File("adapter"), "--out", dir.File("o")], $"error: {dir.File("nomodel")}: model folder not found"),
            (["adapter", "bogus"], "error: unknown command 'bogus'"),
        ];
        foreach (var (args, message) in cases)
        {
            var (code, _, err) = TinyModelFiles.Cli(args);
            Assert.True(code == CliApp.UserError, $"{string.Join(' ', args)} → {code}: {err}");
            Assert.StartsWith(message, err);
            Assert.Single(err.Trim().Split('\n'));
        }
        Assert.False(Directory.Exists(dir.File("o")));
    }
}
