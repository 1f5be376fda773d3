using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Data.Sft;
using SharpTune.Tests.Support;
using SharpTune.Training.Configuration;

namespace SharpTune.Tests.Training.Configuration;

/// <summary>LLaMA-Factory YAML configurations: the example configs, overrides, provenance and every bad input.</summary>
public class TrainConfigTests
{
    internal static string Fixtures => Path.Combine(TestEnvironment.RepoRoot, "tests", "SharpTune.Tests", "Training", "Configuration", "Fixtures");

    internal static string DataDir => Path.Combine(Fixtures, "data");

    // A model folder: config.json and a tokenizer_config.json whose chat_template is ChatML-like (or none).
    internal static string ModelFolder(TempDir tmp, string? chatTemplate = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}")
    {
        var dir = Path.Combine(tmp.Path, "model");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{}");
        if (chatTemplate is not null)
            File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["chat_template"] = chatTemplate, ["eos_token"] = "<|im_end|>" }));
        return dir;
    }

    private static TrainConfig Yaml(TempDir tmp, string yaml, params string[] overrides)
    {
        var model = ModelFolder(tmp);
        var path = tmp.File("c.yaml");
        File.WriteAllText(path, $"model_name_or_path: {model}\noutput_dir: {tmp.File("out")}\ndataset: identity\ndataset_dir: {DataDir}\n" + yaml);
        return TrainConfig.Load(path, overrides);
    }

    private static string Error(TempDir tmp, string yaml, params string[] overrides) =>
        Assert.Throws<UserException>(() => Yaml(tmp, yaml, overrides)).Message;

    [Theory]
    [InlineData("qwen3_lora_sft.yaml", false, 8, 1e-4, true)]
    [InlineData("qwen3_full_sft.yaml", true, 2, 1e-5, true)]
    [InlineData("llama3_lora_sft.yaml", false, 8, 1e-4, false)]
    public void LlamaFactoryExampleConfigsParseAndResolve(string file, bool full, int accumulation, double lr, bool qwen)
    {
        using var tmp = TestEnvironment.TempDir();
        var model = ModelFolder(tmp);
        var c = TrainConfig.Load(Path.Combine(Fixtures, file), [$"model_name_or_path={model}", $"dataset_dir={DataDir}"]);
        Assert.Equal(full, c.FullFineTuning);
        Assert.Equal(8, c.LoraRank);
        Assert.Equal(16, c.LoraAlpha); // LLaMA-Factory: 2 × rank
        Assert.Equal(7, c.LoraTargetList.Count);
        Assert.Equal(accumulation, c.GradientAccumulationSteps);
        Assert.Equal(lr, c.LearningRate);
        Assert.Equal("cosine", c.LrSchedulerType);
        Assert.Equal(0.1, c.WarmupRatio);
        Assert.Equal(1, c.TrainBatchSize);
        Assert.Equal(2048, c.CutoffLen);
        Assert.True(c.Bf16 && c.PlotLoss && c.OverwriteOutputDir);
        Assert.Null(c.ResumeFromCheckpointPath);
        Assert.Equal(["identity", "alpaca_en_demo"], c.Dataset);
        if (qwen)
        {
            Assert.True(c.Template.UseModelTemplate); // the folder's ChatML template is the qwen family
            Assert.False(c.EnableThinking);          // qwen3_nothink
            Assert.Equal("prompt", c.ThinkBlock);
        }
        else Assert.Equal("llama3", c.Template.Builtin); // the folder's template is not Llama 3's
        var ignored = c.IgnoredKeys.Select(i => i.Name).ToList();
        Assert.Contains("trust_remote_code", ignored);
        Assert.Contains("preprocessing_num_workers", ignored);
        Assert.Contains("ddp_timeout", ignored);
        if (full) Assert.Contains("deepspeed", ignored);
        Assert.Equal(ignored.Distinct().Count(), ignored.Count); // listed once
        var data = c.ResolveDatasets();
        Assert.Equal(3 + 4, data.Train.Count);
        Assert.Empty(data.Eval);
        // LLaMA-Factory joins instruction and input with one newline.
        Assert.Contains(data.Train, r => r.Turns[0].Content == "Transform the following sentence using a synonym.\nThe car sped quickly.");
        Assert.Equal("hi", data.Train[0].Turns[0].Content);
    }

    [Fact]
    public void OverridesAreTypedAndProvenanceIsPrinted()
    {
        using var tmp = TestEnvironment.TempDir();
        var c = Yaml(tmp, "learning_rate: 1.0e-4\nlora_rank: 4\nmax_time: 90m\ngenerative_eval:\n  labels: [Yes, No]\n", "learning_rate=5e-5", "num_train_epochs=0.5");
        Assert.Equal(5e-5, c.LearningRate);
        Assert.Equal(ConfigSource.Override, c["learning_rate"].Source);
        Assert.Equal(ConfigSource.File, c["lora_rank"].Source);
        Assert.Equal(ConfigSource.Default, c["weight_decay"].Source);
        Assert.Equal(8, c.LoraAlpha); // derived from the file's rank
        Assert.Equal(TimeSpan.FromMinutes(90), c.MaxTime);
        Assert.Equal(["Yes", "No"], c.GenerativeEval.Labels); // PyYAML would make these booleans; a string list keeps the words
        var text = c.Describe();
        Assert.Contains("learning_rate:", text);
        Assert.Contains("# override 'learning_rate=5e-5'", text);
        Assert.Contains($"# file {tmp.File("c.yaml")}:6", text); // lora_rank on line 6
        Assert.Contains("# default (2 × lora_rank)", text);
        Assert.Contains("weight_decay:", text);
        Assert.Equal(ConfigKeys.All.Count, text.Split('\n').Count(l => l.Contains(": ") && l.Contains("# ") && !l.StartsWith('#')));
    }

    [Fact]
    public void PreprocessOptionsFollowTheKeys()
    {
        using var tmp = TestEnvironment.TempDir();
        var o = Yaml(tmp, "cutoff_len: 512\ntruncation: history\nmask_history: true\ndefault_system: Be brief.\ntemplate: qwen3\n").ToPreprocessOptions();
        Assert.Equal(512, o.CutoffLen);
        Assert.Equal(SharpTune.Preprocessing.TruncationMode.History, o.Truncation);
        Assert.True(o.MaskHistory);
        Assert.Equal("Be brief.", o.Prompt.DefaultSystem);
        Assert.Null(o.Prompt.Template); // the folder's ChatML template is the qwen family
        Assert.Equal(SharpTune.Preprocessing.ThinkBlockPlacement.Answer, o.Prompt.ThinkBlock); // qwen3 with LLaMA-Factory's enable_thinking: true
        Assert.Equal(SharpTune.Preprocessing.ThinkBlockPlacement.Prompt, Yaml(tmp, "template: qwen3\nenable_thinking: false\n").ToPreprocessOptions().Prompt.ThinkBlock);
    }

    [Fact]
    public void AllowRenderMismatchIsAKeyAndItsHintNamesTheConfigFile()
    {
        using var tmp = TestEnvironment.TempDir();
        var off = Yaml(tmp, "").ToPreprocessOptions();
        Assert.False(off.AllowRenderMismatch);
        Assert.Equal($"set allow_render_mismatch: true in {tmp.File("c.yaml")}", off.AllowRenderMismatchHint);
        Assert.True(Yaml(tmp, "allow_render_mismatch: true\n").ToPreprocessOptions().AllowRenderMismatch);
    }

    [Theory]
    [InlineData("1.5h", 5400)]
    [InlineData("45s", 45)]
    [InlineData("120", 120)]
    public void MaxTimeAcceptsUnits(string text, double seconds)
    {
        using var tmp = TestEnvironment.TempDir();
        Assert.Equal(TimeSpan.FromSeconds(seconds), Yaml(tmp, $"max_time: {text}\n").MaxTime);
    }

    [Fact]
    public void ValSizeIsACountOrAFractionAndSplitsWithTheSeed()
    {
        using var tmp = TestEnvironment.TempDir();
        var a = Yaml(tmp, "val_size: 0.34\n").ResolveDatasets();
        Assert.Equal((1, 2), (a.Train.Count, a.Eval.Count)); // ⌈0.34·3⌉ = ⌈1.02⌉ = 2 held out
        var b = Yaml(tmp, "val_size: 1\n").ResolveDatasets();
        Assert.Equal((2, 1), (b.Train.Count, b.Eval.Count));
        var c = Yaml(tmp, "val_size: 1\nseed: 7\n").ResolveDatasets();
        var again = Yaml(tmp, "val_size: 1\nseed: 7\n").ResolveDatasets();
        Assert.Equal(c.Eval.Select(r => r.Index), again.Eval.Select(r => r.Index));
        Assert.Contains("neither a whole count nor a fraction", Error(tmp, "val_size: 1.5\n"));
        Assert.Contains("val_size cannot be used together with eval_dataset", Error(tmp, "val_size: 0.1\neval_dataset: alpaca_en_demo\n"));
        var m = Yaml(tmp, "max_samples: 2\n", "dataset=identity,alpaca_en_demo").ResolveDatasets();
        Assert.Equal(4, m.Train.Count); // the first 2 of each dataset
    }

    [Theory]
    [InlineData("learnig_rate: 1e-4\n", "c.yaml:5: unknown key 'learnig_rate'; did you mean 'learning_rate'?")]
    [InlineData("lora_rnak: 8\n", "did you mean 'lora_rank'?")]
    [InlineData("quantization_bit: 4\n", "c.yaml:5: quantization_bit: quantized (QLoRA) training is not supported")]
    [InlineData("packing: true\n", "packing: sequence packing is not supported")]
    [InlineData("neat_packing: true\n", "neat_packing: sequence packing is not supported")]
    [InlineData("stage: dpo\n", "c.yaml:5: stage: 'dpo' is not supported; expected one of: sft")]
    [InlineData("finetuning_type: freeze\n", "finetuning_type: 'freeze' is not supported; expected one of: lora, full")]
    [InlineData("learning_rate: -1\n", "c.yaml:5: learning_rate: must be > 0, got -1")]
    [InlineData("learning_rate: 0\n", "learning_rate: must be > 0")]
    [InlineData("per_device_train_batch_size: 0\n", "per_device_train_batch_size: must be >= 1, got 0")]
    [InlineData("gradient_accumulation_steps: -2\n", "gradient_accumulation_steps: must be >= 1")]
    [InlineData("cutoff_len: 0\n", "cutoff_len: must be >= 2")]
    [InlineData("lora_rank: 0\n", "lora_rank: must be >= 1")]
    [InlineData("lora_dropout: -0.1\n", "lora_dropout: must be >= 0")]
    [InlineData("lr_scheduler_type: polynomial\n", "lr_scheduler_type: 'polynomial' is not supported; expected one of: constant, constant_with_warmup, linear, cosine")]
    [InlineData("save_strategy: sometimes\n", "save_strategy: 'sometimes' is not supported")]
    [InlineData("bf16: maybe\n", "bf16: expected true or false, got maybe")]
    [InlineData("lora_rank: eight\n", "lora_rank: expected a whole number, got eight")]
    [InlineData("max_time: soon\n", "max_time: expected a duration")]
    [InlineData("max_time: 0\n", "max_time: must be > 0")]
    [InlineData("template: qwen9\n", "template: unknown template 'qwen9'; known: qwen3, qwen3_nothink, qwen, chatml, llama3")]
    [InlineData("lora_target: q_proj,attn\n", "lora_target")]
    [InlineData("eval_strategy: steps\n", "eval_strategy: steps needs evaluation data")]
    [InlineData("mask_history: true\ntrain_on_prompt: true\n", "mask_history cannot be used together with train_on_prompt")]
    [InlineData("think_block: answer\nenable_thinking: false\n", "think_block: answer contradicts enable_thinking: false")]
    [InlineData("template: qwen3_nothink\nthink_block: answer\n", "think_block: answer contradicts template: qwen3_nothink")]
    [InlineData("learning_rate: 1\nlearning_rate: 2\n", "c.yaml:6: not valid YAML")]
    [InlineData("generative_eval:\n  sample: 3\n", "unknown key 'generative_eval.sample'; did you mean 'generative_eval.samples'?")]
    [InlineData("resume_from_checkpoint: /no/such/checkpoint\n", "resume_from_checkpoint: folder '/no/such/checkpoint' not found")]
    [InlineData("learning_rate: [1, 2]\n", "learning_rate: expected a number")]
    public void BadInputNamesTheKeyAndLine(string yaml, string expected)
    {
        using var tmp = TestEnvironment.TempDir();
        Assert.Contains(expected, Error(tmp, yaml));
    }

    [Fact]
    public void ReadmeDocumentsEveryKey()
    {
        var readme = File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "README.md"));
        int start = readme.IndexOf("## Training configuration", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no Training configuration section");
        var section = readme[start..readme.IndexOf("\n## ", start + 5, StringComparison.Ordinal)];
        foreach (var k in ConfigKeys.All)
            Assert.Contains($"| `{k.Name}`", section);
        foreach (var t in TemplateTable.All)
            Assert.Contains($"| `{t.Name}` |", section);
    }

    [Fact]
    public void OverrideErrorsNameTheOverride()
    {
        using var tmp = TestEnvironment.TempDir();
        Assert.Contains("override 'learning_rate=-5': learning_rate: must be > 0", Error(tmp, "", "learning_rate=-5"));
        Assert.Contains("override 'learning_rat=1': unknown key 'learning_rat'; did you mean 'learning_rate'?", Error(tmp, "", "learning_rat=1"));
        Assert.Contains("override 'oops': expected key=value", Error(tmp, "", "oops"));
    }

    [Fact]
    public void NeutralUnsupportedAndInfrastructureKeysAreListedAsIgnored()
    {
        using var tmp = TestEnvironment.TempDir();
        var c = Yaml(tmp, "packing: false\nquantization_bit: null\nflash_attn: fa2\nreport_to: wandb\n");
        Assert.Equal(["packing", "quantization_bit", "flash_attn", "report_to"], c.IgnoredKeys.Select(i => i.Name));
        Assert.Contains("# ignored: flash_attn: fa2", c.Describe());
    }

    [Fact]
    public void ModelMustBeALocalFolder()
    {
        using var tmp = TestEnvironment.TempDir();
        File.WriteAllText(tmp.File("c.yaml"), $"model_name_or_path: Qwen/Qwen3-0.6B\noutput_dir: out\ndataset: identity\n");
        var e = Assert.Throws<UserException>(() => TrainConfig.Load(tmp.File("c.yaml"))).Message;
        Assert.Contains("c.yaml:1: model_name_or_path: 'Qwen/Qwen3-0.6B' is not a local folder; SharpTune does not download models — download the files first", e);
        File.WriteAllText(tmp.File("d.yaml"), "output_dir: out\n");
        Assert.Contains("model_name_or_path is required", Assert.Throws<UserException>(() => TrainConfig.Load(tmp.File("d.yaml"))).Message);
        Assert.Contains("configuration file not found", Assert.Throws<UserException>(() => TrainConfig.Load(tmp.File("none.yaml"))).Message);
        File.WriteAllText(tmp.File("e.yaml"), "model_name_or_path: [unclosed\n");
        Assert.Contains("not valid YAML", Assert.Throws<UserException>(() => TrainConfig.Load(tmp.File("e.yaml"))).Message);
    }

    [Fact]
    public void TemplateNamesMapOntoRenderers()
    {
        using var tmp = TestEnvironment.TempDir();
        var folder = ModelFolder(tmp);
        Assert.True(TemplateTable.Resolve(null, folder, "t").UseModelTemplate);
        Assert.Equal("completion", TemplateTable.Resolve(null, tmp.Path, "t").Builtin); // no chat_template: LLaMA-Factory's empty
        Assert.Equal("qwen3", TemplateTable.Resolve("qwen3", tmp.Path, "t").Builtin);
        Assert.Equal("chatml", TemplateTable.Resolve("chatml", folder, "t").Builtin); // chatml is always the built-in
        Assert.Equal("mistral", TemplateTable.Resolve("mistral", folder, "t").Builtin);
        Assert.Equal("completion", TemplateTable.Resolve("empty", folder, "t").Builtin);
        Assert.False(TemplateTable.Resolve("qwen3_nothink", folder, "t").EnableThinking);
        foreach (var m in TemplateTable.All) Text.Templates.ChatTemplate.Builtin(m.Builtin); // every fallback exists
    }

    [Fact]
    public void DatasetErrorsNameTheDatasetFileAndLine()
    {
        using var tmp = TestEnvironment.TempDir();
        Assert.Contains("dataset 'nope': not defined in", Assert.Throws<UserException>(() => Yaml(tmp, "", "dataset=nope").ResolveDatasets()).Message);
        Assert.Contains("(known: identity, alpaca_en_demo, glaive_toolcall_en_demo)", Assert.Throws<UserException>(() => Yaml(tmp, "", "dataset=nope").ResolveDatasets()).Message);
        var data = Path.Combine(tmp.Path, "data");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "dataset_info.json"), """
            {"mapped": {"file_name": "m.json", "columns": {"prompt": "question", "response": "answer"}},
             "missing": {"file_name": "gone.json"},
             "empty": {"file_name": "e.json"},
             "hub": {"hf_hub_url": "org/data"}}
            """);
        File.WriteAllText(Path.Combine(data, "m.json"), "[\n  {\"question\": \"q\", \"answer\": \"a\"},\n  {\"question\": \"q2\",\n   \"reply\": \"a2\"}\n]\n");
        File.WriteAllText(Path.Combine(data, "e.json"), "[]");
        TrainConfig With(string name) => Yaml(tmp, "", $"dataset={name}", $"dataset_dir={data}");
        Assert.Contains("hub: hf_hub_url is not supported; SharpTune reads local files", Assert.Throws<UserException>(() => With("hub").ResolveDatasets()).Message);
        Assert.Contains("m.json:3: missing field 'answer'", Assert.Throws<UserException>(() => With("mapped").ResolveDatasets()).Message);
        Assert.Contains("gone.json: data file of dataset 'missing' not found", Assert.Throws<UserException>(() => With("missing").ResolveDatasets()).Message);
        Assert.Contains("dataset 'empty' has no records", Assert.Throws<UserException>(() => With("empty").ResolveDatasets()).Message);
        // The fingerprint alone (what a cached training split needs) reads no record: the malformed one is not seen,
        // a missing file still is, and it equals the resolved datasets' fingerprint.
        Assert.Matches("^[0-9a-f]{64}$", SharpTune.Data.Sft.DatasetResolver.Fingerprint(With("mapped").DatasetSelection));
        Assert.Contains("gone.json: data file of dataset 'missing' not found",
            Assert.Throws<UserException>(() => SharpTune.Data.Sft.DatasetResolver.Fingerprint(With("missing").DatasetSelection)).Message);
        foreach (var config in new[] { Yaml(tmp, "val_size: 1\nseed: 7\n"), Yaml(tmp, "max_samples: 2\n", "dataset=identity,alpaca_en_demo"), Yaml(tmp, "eval_dataset: alpaca_en_demo\n") })
            Assert.Equal(config.ResolveDatasets().Fingerprint, SharpTune.Data.Sft.DatasetResolver.Fingerprint(config.DatasetSelection));
        // A plain file path works too, its format detected from the keys.
        Assert.Equal(3, Yaml(tmp, "", $"dataset={Path.Combine(DataDir, "identity.json")}").ResolveDatasets().Train.Count);
    }

    [Fact]
    public void PrintConfigVerbPrintsTheResolvedConfiguration()
    {
        using var tmp = TestEnvironment.TempDir();
        var model = ModelFolder(tmp);
        var cfg = Path.Combine(Fixtures, "qwen3_lora_sft.yaml");
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(CommandTree.Root()).Run(["train", cfg, $"model_name_or_path={model}", $"dataset_dir={DataDir}", "lora_rank=16", "--print-config"], o, e, new StringReader(""));
        Assert.Equal(0, code);
        Assert.Contains("lora_alpha:", o.ToString());
        Assert.Contains("32", o.ToString().Split('\n').First(l => l.StartsWith("lora_alpha:", StringComparison.Ordinal)));
        Assert.Contains("# override 'lora_rank=16'", o.ToString());
        Assert.Contains("# ignored: dataloader_num_workers: 4", o.ToString());
    }
}
