using System.Text.Json.Nodes;
using System.Text.Json;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Tests.Tokenization;
using SharpTune.Tests.Training;
using SharpTune.Training;

namespace SharpTune.Tests.Inference;

/// <summary>The infer, chat and export verbs on a tiny random Qwen3 model with the real Qwen3 tokenizer.</summary>
public sealed class InferCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    private const string Data = """
        {"instruction": "Will the user like it?", "input": "History: Heat (1995)", "output": "Yes", "system": "", "history": [], "user_id": 1, "movie_id": 10}
        {"instruction": "Will the user like it?", "input": "History: Babe (1995)", "output": "No", "user_id": 2, "movie_id": 11}
        {"instruction": "Will the user like it?", "input": "History: Jaws (1975), Alien (1979)", "output": "Yes", "user_id": 3, "movie_id": 12}
        {"instruction": "Will the user like it?", "input": "History: Up (2009)", "output": "No", "user_id": 4, "movie_id": 13}
        {"instruction": "Will the user like it?", "input": "", "output": "Yes", "user_id": 5, "movie_id": 14}
        """;

    public void Dispose() => _dir.Dispose();

    private string Model(string name = "model", string seed = "3")
    {
        TokenizerOracle.Require();
        var dir = _dir.File(name);
        if (!Directory.Exists(dir))
            Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", Path.GetDirectoryName(TokenizerOracle.TokenizerPath("qwen3"))!, dir, seed)).Code);
        return dir;
    }

    private string DataFile(string text = Data)
    {
        var path = _dir.File("data.jsonl");
        File.WriteAllText(path, text.Replace("\r", "") + "\n");
        return path;
    }

    private static (int Code, string Out, string Err) Cli(string stdin, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(stdin));
        return (code, o.ToString(), e.ToString());
    }

    private static JsonElement[] Lines(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    private static void AssertOneLineError((int Code, string Out, string Err) r, string contains)
    {
        Assert.Equal(1, r.Code);
        Assert.Contains(contains, r.Err);
        Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void A_killed_run_resumes_to_the_same_file_and_changed_settings_are_refused()
    {
        var model = Model();
        var data = DataFile();
        string full = _dir.File("full.jsonl"), resumed = _dir.File("resumed.jsonl");
        string[] Args(string output, params string[] extra) =>
            ["infer", "--model", model, "--data", data, "--output", output, "--labels", "Yes,No", "--max-new-tokens", "5", "--batch-size", "2", .. extra];
        var r = Cli("", Args(full));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("records/s", r.Err);
        var lines = Lines(full);
        Assert.Equal(5, lines.Length);
        Assert.Equal(Enumerable.Range(0, 5), lines.Select(l => l.GetProperty("index").GetInt32()));
        Assert.Equal(14, lines[4].GetProperty("movie_id").GetInt32());
        Assert.Equal("No", lines[1].GetProperty("label").GetString());
        Assert.False(File.Exists(PredictionFile.PartialPath(full)));

        // A run killed while writing its third line: two complete lines and a torn one in OUTPUT.partial.
        Assert.Equal(0, Cli("", Args(resumed)).Code);
        var bytes = File.ReadAllText(full);
        int cut = bytes.IndexOf('\n', bytes.IndexOf('\n') + 1) + 1;
        File.Delete(resumed);
        File.WriteAllText(PredictionFile.PartialPath(resumed), bytes[..(cut + 9)]);
        r = Cli("", Args(resumed));
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("3 records (2 already written)", r.Err);
        Assert.Equal(File.ReadAllBytes(full), File.ReadAllBytes(resumed));

        // Complete: nothing to do, the file is unchanged.
        r = Cli("", Args(resumed));
        Assert.Contains("0 records (5 already written)", r.Err);
        Assert.Equal(File.ReadAllBytes(full), File.ReadAllBytes(resumed));

        // Other settings into the same output: refused, the file kept.
        AssertOneLineError(Cli("", Args(resumed, "--stop", "x")), "was written with a different generation");
        Assert.Equal(File.ReadAllBytes(full), File.ReadAllBytes(resumed));
    }

    [Fact]
    public void Run_settings_are_honoured_and_contradicting_flags_need_allow_prompt_drift()
    {
        var model = Model();
        var data = DataFile();
        var run = _dir.File("run");
        var checkpoint = Path.Combine(run, "checkpoint-4");
        Directory.CreateDirectory(checkpoint);
        PromptSettingsFile.Write(checkpoint, new PromptSettings { Template = "chatml", DefaultSystem = "You rate movies." });
        string output = _dir.File("run.jsonl");
        var r = Cli("", "infer", "--model", model, "--run", run, "--data", data, "--output", output, "--save-prompts", "--max-new-tokens", "2");
        Assert.True(r.Code == 0, r.Err);
        var prompt = Lines(output)[1].GetProperty("prompt").GetString()!;
        Assert.StartsWith("<|im_start|>system\nYou rate movies.<|im_end|>\n<|im_start|>user\nWill the user like it?\n\nHistory: Babe (1995)<|im_end|>\n<|im_start|>assistant\n", prompt);
        Assert.DoesNotContain("<think>", prompt);   // chatml, not the folder's Qwen3 template

        // A flag that repeats the run's value is fine; one that contradicts it is refused.
        Assert.Equal(0, Cli("", "infer", "--model", model, "--run", run, "--data", data, "--output", _dir.File("same.jsonl"), "--template", "chatml", "--max-new-tokens", "1").Code);
        AssertOneLineError(Cli("", "infer", "--model", model, "--run", run, "--data", data, "--output", _dir.File("drift.jsonl"), "--default-system", "Be rude."),
            "--default-system: run 'You rate movies.', flag 'Be rude.'");
        r = Cli("", "infer", "--model", model, "--run", run, "--data", data, "--output", _dir.File("drift.jsonl"), "--default-system", "Be rude.", "--allow-prompt-drift", "--save-prompts", "--max-new-tokens", "1");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("prompt drift from", r.Err);
        Assert.StartsWith("<|im_start|>system\nBe rude.<|im_end|>", Lines(_dir.File("drift.jsonl"))[0].GetProperty("prompt").GetString());
    }

    [Fact]
    public void Score_writes_scores_and_p_equal_to_full_forwards()
    {
        var model = Model();
        var data = DataFile();
        string output = _dir.File("score.jsonl");
        var r = Cli("", "infer", "--model", model, "--data", data, "--output", output, "--score", "--labels", "Yes,No,Perhaps not", "--positive", "No", "--save-prompts");
        Assert.True(r.Code == 0, r.Err);
        using var folder = ModelFolder.Open(model);
        using var backend = SharpTune.Engine.ComputeBackends.Create();
        using var weights = DecoderWeights.Load(folder.Config, folder.Weights, backend);
        using var decoder = new DecoderModel(weights, maxTokens: 64, maxLogitRows: 64);
        using var cache = new KvCache(folder.Config, backend, 1, 128);
        var tok = folder.Tokenizer!;
        int vocab = folder.Config.VocabSize;
        foreach (var line in Lines(output))
        {
            var prompt = line.GetProperty("prompt").GetString()!;
            var scores = line.GetProperty("scores");
            var values = new List<double>();
            foreach (var label in new[] { "Yes", "No", "Perhaps not" })
            {
                var pIds = tok.Encode(prompt, false);
                var all = tok.Encode(prompt + label, false);
                var logits = decoder.ForwardPadded(cache, [all], [Enumerable.Repeat(1, all.Length).ToArray()])[0];
                double expected = 0;
                for (int t = pIds.Length; t < all.Length; t++)
                {
                    var row = logits.AsSpan((t - 1) * vocab, vocab);
                    expected += row[all[t]] - LabelScorer.LogSumExp(row);
                }
                Assert.Equal(expected, scores.GetProperty(label).GetDouble(), 4);
                values.Add(scores.GetProperty(label).GetDouble());
            }
            double z = values.Sum(Math.Exp);
            Assert.Equal(Math.Exp(values[1]) / z, line.GetProperty("p").GetDouble(), 9);
            Assert.True(line.GetProperty("answer").ValueKind == JsonValueKind.String);
        }
    }

    [Fact]
    public void Chat_reads_turns_from_stdin_and_answers_as_infer_does()
    {
        var model = Model();
        var prompts = DataFile("{\"prompt\": \"Hello there\"}");
        Assert.Equal(0, Cli("", "infer", "--model", model, "--data", prompts, "--output", _dir.File("p.jsonl"), "--max-new-tokens", "6").Code);
        var expected = Lines(_dir.File("p.jsonl"))[0].GetProperty("output").GetString()!;
        var r = Cli("Hello there\n/system Be brief.\nHello there\n/reset\n\n/exit\nnever read\n", "chat", "--model", model, "--max-new-tokens", "6");
        Assert.True(r.Code == 0, r.Err);
        var lines = r.Out.Split('\n');
        Assert.Equal(expected, lines[0]);
        Assert.Equal("(system prompt set; conversation reset)", lines[1]);
        Assert.Equal("(conversation reset)", lines[3]);
        Assert.Equal(5, lines.Length);   // three outputs, one reply after /system, final newline
    }

    [Fact]
    public void Export_from_a_llama_factory_merge_config_equals_adapter_merge_and_loads_in_generate()
    {
        var model = Model();
        using var folder = ModelFolder.Open(model);
        var adapterDir = _dir.File("adapter");
        var adapter = PeftTestAdapters.Random(folder.Config, PeftTestAdapters.QV(), seed: 4);
        PeftAdapter.Save(adapterDir, adapter, model);
        // LLaMA-Factory's examples/merge_lora/qwen3_lora_sft.yaml with local paths and a small shard size.
        var yaml = _dir.File("qwen3_lora_sft.yaml");
        File.WriteAllText(yaml, $"""
            ### Note: DO NOT use quantized model or quantization_bit when merging lora adapters

            ### model
            model_name_or_path: {model}
            adapter_name_or_path: {adapterDir}
            template: qwen3_nothink
            trust_remote_code: true

            ### export
            export_dir: {_dir.File("merged")}
            export_size: 0.004
            export_device: cpu  # choices: [cpu, auto]
            export_legacy_format: false
            """);
        var r = Cli("", "export", yaml);
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(Path.Combine(_dir.File("merged"), "model.safetensors.index.json")));
        Assert.True(Directory.GetFiles(_dir.File("merged"), "model-*.safetensors").Length > 1);
        Assert.True(File.Exists(Path.Combine(_dir.File("merged"), "tokenizer.json")));
        Assert.Equal(0, Cli("", "adapter", "merge", "--model", model, "--adapter", adapterDir, "--out", _dir.File("reference")).Code);
        using (var exported = ModelFolder.Open(_dir.File("merged")))
        using (var reference = ModelFolder.Open(_dir.File("reference")))
        {
            Assert.Equal(reference.Weights.Names.Order(), exported.Weights.Names.Order());
            foreach (var name in reference.Weights.Names)
                Assert.True(reference.Weights.GetBytes(name).SequenceEqual(exported.Weights.GetBytes(name)), name);
        }
        var a = Cli("", "generate", "--model", _dir.File("merged"), "--prompt", "Hi", "--chat", "--max-new-tokens", "4");
        var b = Cli("", "generate", "--model", _dir.File("reference"), "--prompt", "Hi", "--chat", "--max-new-tokens", "4");
        Assert.Equal(0, a.Code);
        Assert.Equal(b.Out, a.Out);

        Assert.False(File.Exists(Path.Combine(_dir.File("merged"), "chat_template.jinja")));   // qwen3_nothink: the model's own Qwen3 template is kept
        // A template of another family replaces the chat template (chat_template.jinja and tokenizer_config.json's).
        var other = _dir.File("other.yaml");
        File.WriteAllText(other, $"model_name_or_path: {model}\nadapter_name_or_path: {adapterDir}\ntemplate: llama3\nexport_dir: {_dir.File("llama3")}\n");
        Assert.Equal(0, Cli("", "export", other).Code);
        var llama3 = SharpTune.Text.Templates.ChatTemplate.Builtin("llama3").Source;
        Assert.Equal(llama3, File.ReadAllText(Path.Combine(_dir.File("llama3"), "chat_template.jinja")));
        Assert.Equal(llama3, JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir.File("llama3"), "tokenizer_config.json"))).RootElement.GetProperty("chat_template").GetString());
        Assert.True(File.Exists(Path.Combine(_dir.File("llama3"), "model.safetensors")));   // under 5 GB: one file

        File.AppendAllText(yaml, "\nexport_quantization_bit: 4\n");
        AssertOneLineError(Cli("", "export", yaml), "qwen3_lora_sft.yaml:14: unknown key 'export_quantization_bit'");
    }

    [Fact]
    public void An_adapter_or_a_run_checkpoint_holding_one_infers_what_the_merged_model_infers()
    {
        var model = Model();
        var data = DataFile();
        using (var folder = ModelFolder.Open(model))
        {
            var checkpoint = Path.Combine(_dir.File("run"), "checkpoint-2");
            PeftAdapter.Save(checkpoint, PeftTestAdapters.Random(folder.Config, new LoraConfig { Rank = 4, Alpha = 64, Targets = LoraTargets.All }, seed: 8), model);
            PromptSettingsFile.Write(checkpoint, new PromptSettings());
        }
        var checkpointDir = Path.Combine(_dir.File("run"), "checkpoint-2");
        Assert.Equal(0, Cli("", "adapter", "merge", "--model", model, "--adapter", checkpointDir, "--out", _dir.File("merged")).Code);
        string[] Args(string m, string output, params string[] extra) => ["infer", "--model", m, "--data", data, "--output", _dir.File(output), "--max-new-tokens", "6", .. extra];
        Assert.Equal(0, Cli("", Args(_dir.File("merged"), "merged.jsonl")).Code);
        Assert.Equal(0, Cli("", Args(model, "plain.jsonl")).Code);
        var r = Cli("", Args(model, "adapter.jsonl", "--adapter", checkpointDir));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(0, Cli("", Args(model, "run.jsonl", "--run", _dir.File("run"))).Code);
        string Outputs(string f) => string.Join("|", Lines(_dir.File(f)).Select(l => l.GetProperty("output").GetString()));
        Assert.Equal(Outputs("merged.jsonl"), Outputs("adapter.jsonl"));
        Assert.Equal(Outputs("merged.jsonl"), Outputs("run.jsonl"));
        Assert.NotEqual(Outputs("plain.jsonl"), Outputs("adapter.jsonl"));
    }

    [Fact]
    public void A_full_fine_tuning_run_beside_another_model_and_prompts_past_the_context_are_warned_about()
    {
        var model = Model();
        var data = DataFile();
        // A full fine-tuning checkpoint: the model's own files plus the prompt settings.
        var checkpoint = Path.Combine(_dir.File("fullrun"), "checkpoint-3");
        Directory.CreateDirectory(checkpoint);
        foreach (var f in Directory.GetFiles(model)) File.Copy(f, Path.Combine(checkpoint, Path.GetFileName(f)));
        PromptSettingsFile.Write(checkpoint, new PromptSettings());
        var r = Cli("", "infer", "--model", model, "--run", _dir.File("fullrun"), "--data", data, "--output", _dir.File("base.jsonl"), "--max-new-tokens", "1");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains($"is a full fine-tuning run whose weights are in {checkpoint}, but --model is {model}", r.Err);
        r = Cli("", "infer", "--model", checkpoint, "--run", _dir.File("fullrun"), "--data", data, "--output", _dir.File("own.jsonl"), "--max-new-tokens", "1");
        Assert.True(r.Code == 0, r.Err);
        Assert.DoesNotContain("warning", r.Err);

        // Past max_position_embeddings: one warning, and the run goes on (as transformers does).
        var small = _dir.File("small-context");
        Directory.CreateDirectory(small);
        foreach (var f in Directory.GetFiles(model)) File.Copy(f, Path.Combine(small, Path.GetFileName(f)));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(small, "config.json")))!.AsObject();
        config["max_position_embeddings"] = 24;
        File.WriteAllText(Path.Combine(small, "config.json"), config.ToJsonString());
        r = Cli("", "infer", "--model", small, "--data", data, "--output", _dir.File("long.jsonl"), "--max-new-tokens", "2");
        Assert.True(r.Code == 0, r.Err);
        Assert.Single(r.Err.Split('\n'), l => l.Contains("past the model's max_position_embeddings 24", StringComparison.Ordinal));
        Assert.Equal(5, Lines(_dir.File("long.jsonl")).Length);
    }

    [Fact]
    public void Records_without_a_reference_infer_from_the_same_prompt_and_eval_refuses_their_predictions()
    {
        var model = Model();
        string withAnswers = DataFile(), labelled = _dir.File("labelled.jsonl");
        var r = Cli("", "infer", "--model", model, "--data", withAnswers, "--output", labelled, "--save-prompts", "--labels", "Yes,No", "--max-new-tokens", "2");
        Assert.True(r.Code == 0, r.Err);
        // The same records with their output absent, null or empty; and as plain prompt lines without a label.
        var noAnswers = _dir.File("unlabelled-data.jsonl");
        File.WriteAllText(noAnswers, Data.Replace("\"output\": \"Yes\", \"system\"", "\"system\"").Replace("\"output\": \"No\"", "\"output\": null").Replace("\"output\": \"Yes\"", "\"output\": \"\"") + "\n");
        Assert.DoesNotContain("\"Yes\"", File.ReadAllText(noAnswers));
        string unlabelled = _dir.File("unlabelled.jsonl");
        r = Cli("", "infer", "--model", model, "--data", noAnswers, "--output", unlabelled, "--save-prompts", "--labels", "Yes,No", "--max-new-tokens", "2");
        Assert.True(r.Code == 0, r.Err);
        var (a, b) = (Lines(labelled), Lines(unlabelled));
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i].GetProperty("prompt").GetString(), b[i].GetProperty("prompt").GetString());
            Assert.Equal(a[i].GetProperty("output").GetString(), b[i].GetProperty("output").GetString());
            Assert.True(a[i].TryGetProperty("label", out _));
            Assert.False(b[i].TryGetProperty("label", out _));
            Assert.False(b[i].TryGetProperty("correct", out _));
        }
        var prompts = _dir.File("prompts.jsonl");
        File.WriteAllText(prompts, "{\"prompt\": \"Will the user like Heat (1995)?\"}\n{\"prompt\": \"And Babe (1995)?\", \"label\": null}\n");
        string plain = _dir.File("plain.jsonl");
        r = Cli("", "infer", "--model", model, "--data", prompts, "--output", plain, "--labels", "Yes,No", "--score");
        Assert.True(r.Code == 0, r.Err);
        Assert.All(Lines(plain), l => { Assert.False(l.TryGetProperty("label", out _)); Assert.True(l.TryGetProperty("p", out _)); });
        AssertOneLineError(Cli("", "eval", "--predictions", unlabelled), "no record has a \"label\" (the reference answer)");
        AssertOneLineError(Cli("", "eval", "--predictions", plain), "no record has a \"label\" (the reference answer)");
    }

    [Fact]
    public void Bad_inputs_are_one_line_errors()
    {
        var model = Model();
        var output = _dir.File("bad.jsonl");
        var data = DataFile(Data + "\n{\"instruction\": \"x\", \"output\": 3}");
        AssertOneLineError(Cli("", "infer", "--model", model, "--data", data, "--output", output), "data.jsonl:6: field 'output' must be a string");
        data = DataFile("{\"instruction\": \"x\", \"output\": \"Yes\"}\n{not json");
        AssertOneLineError(Cli("", "infer", "--model", model, "--data", data, "--output", output), "data.jsonl:2: not valid JSON");
        data = DataFile();
        AssertOneLineError(Cli("", "infer", "--model", model, "--data", data, "--output", output, "--score", "--labels", "Yes"), "expected at least two labels");
        AssertOneLineError(Cli("", "infer", "--model", model, "--data", data, "--output", output, "--score"), "--score needs --labels");
        // An adapter trained on another base: its shapes do not fit.
        var other = PeftTestAdapters.Config(hidden: 24);
        var adapterDir = _dir.File("other-adapter");
        PeftAdapter.Save(adapterDir, PeftTestAdapters.Random(other, PeftTestAdapters.QV(), seed: 2), null);
        var r = Cli("", "infer", "--model", model, "--adapter", adapterDir, "--data", data, "--output", output);
        AssertOneLineError(r, "shape");
        Assert.False(File.Exists(output));
    }
}
