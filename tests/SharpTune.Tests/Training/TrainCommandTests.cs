using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Tests.Training.Configuration;

namespace SharpTune.Tests.Training;

/// <summary>
/// <c>sharptune train CONFIG.yaml</c> end to end on a tiny random Qwen3 with a byte-level tokenizer: LLaMA-Factory's
/// example configs, a MovieLens-style run with generative evaluation, resume, SIGINT from a real process, bad input.
/// </summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _model;

    public TrainCommandTests()
    {
        _model = TinyModel(_dir.File("model"), seed: "7");
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>A byte-level BPE tokenizer (every byte a token, GPT-2's byte map) with Qwen's chat special tokens.</summary>
    internal static string ByteTokenizer(string dir)
    {
        Directory.CreateDirectory(dir);
        var bs = Enumerable.Range('!', '~' - '!' + 1).Concat(Enumerable.Range('¡', '¬' - '¡' + 1)).Concat(Enumerable.Range('®', 'ÿ' - '®' + 1)).ToList();
        var cs = new List<int>(bs);
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!bs.Contains(b)) { bs.Add(b); cs.Add(256 + n++); }
        var vocab = new JsonObject();
        foreach (var (b, c) in bs.Zip(cs).OrderBy(p => p.First)) vocab[((char)c).ToString()] = b;
        string[] specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = true };
        var tok = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(specials.Select((s, i) => (JsonNode)new JsonObject
            {
                ["id"] = 256 + i, ["content"] = s, ["special"] = true, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false,
            }).ToArray()),
            ["normalizer"] = null, ["pre_tokenizer"] = byteLevel, ["post_processor"] = null, ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray() },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tok.ToJsonString(), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "model_max_length": 4096}""");
        return dir;
    }

    internal static string TinyModel(string dir, string seed, int hidden = 32)
    {
        var tok = ByteTokenizer(dir + "-tok");
        var (code, _, err) = TinyModelFiles.Cli(["init-model", "--arch", "qwen3", "--hidden", $"{hidden}", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--head-dim", "8",
            "--intermediate", "48", "--tokenizer", tok, "--seed", seed, "--out", dir]);
        Assert.True(code == 0, err);
        return dir;
    }

    private (int Code, string Out, string Err) Train(string config, params string[] overrides) =>
        TinyModelFiles.Cli(["train", config, .. overrides, "--cache-dir", _dir.File("cache")]);

    private static List<JsonObject> Log(string outDir) =>
        File.ReadAllLines(Path.Combine(outDir, "trainer_log.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Theory]
    [InlineData("qwen3_lora_sft.yaml", "adapter_model.safetensors")]
    [InlineData("qwen3_full_sft.yaml", "model.safetensors")]
    [InlineData("llama3_lora_sft.yaml", "adapter_model.safetensors")]
    public void LlamaFactoryExampleConfigsTrainEndToEnd(string file, string weights)
    {
        var output = _dir.File("out-" + file);
        var (code, stdout, err) = Train(Path.Combine(TrainConfigTests.Fixtures, file), $"model_name_or_path={_model}", $"dataset_dir={TrainConfigTests.DataDir}",
            $"output_dir={output}", "max_steps=2", "logging_steps=1", "save_steps=1", "cutoff_len=256", "template=qwen3_nothink");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("train: 7 samples of 7 records", stdout); // identity (3) + alpaca_en_demo (4), through the cache
        Assert.Contains("ignored (no effect on the run here):", stdout);
        Assert.Contains("trained 2 steps", stdout);
        foreach (var f in new[] { weights, "tokenizer.json", "tokenizer_config.json", "prompt_settings.json", "trainer_state.json", "trainer_log.jsonl",
                     "train_results.json", "all_results.json", "training_loss.png", "checkpoint-1/trainer_state.json", "checkpoint-2/" + weights })
            Assert.True(File.Exists(Path.Combine(output, f)), $"{f} is missing from {output}");
        var losses = Log(output).Where(l => l["loss"] is not null).Select(l => l["loss"]!.GetValue<double>()).ToList();
        Assert.Equal(2, losses.Count);
        Assert.All(losses, l => Assert.True(double.IsFinite(l) && l > 0));
        Assert.Equal(2, JsonNode.Parse(File.ReadAllText(Path.Combine(output, "trainer_state.json")))!["global_step"]!.GetValue<long>());

        (code, stdout, err) = Train(Path.Combine(TrainConfigTests.Fixtures, file), $"model_name_or_path={_model}", $"dataset_dir={TrainConfigTests.DataDir}",
            $"output_dir={output}", "max_steps=1", "cutoff_len=256", "template=qwen3_nothink");
        Assert.True(code == 0, err);
        // The second run over the same data reads it from the cache, unless the config sets overwrite_cache (llama3's does).
        Assert.Equal(!File.ReadAllText(Path.Combine(TrainConfigTests.Fixtures, file)).Contains("overwrite_cache: true", StringComparison.Ordinal), stdout.Contains("from the cache", StringComparison.Ordinal));
    }

    /// <summary>A MovieLens-style Yes/No dataset (alpaca) with train and eval files, and a config that evaluates generatively.</summary>
    private string MovieLensConfig(string output, string extra = "")
    {
        var data = _dir.File("ml");
        Directory.CreateDirectory(data);
        string[] movies = ["Heat (1995)", "Toy Story (1995)", "Fargo (1996)", "Alien (1979)", "Up (2009)", "Jaws (1975)"];
        JsonArray Records(int count, int offset) => new(Enumerable.Range(offset, count).Select(i => (JsonNode)new JsonObject
        {
            ["instruction"] = $"User {i % 7} liked {movies[i % 6]} and {movies[(i + 2) % 6]}. Will they like {movies[(i + 3) % 6]}? Answer Yes or No.",
            ["input"] = "",
            ["output"] = i % 3 == 0 ? "No" : "Yes",
        }).ToArray());
        File.WriteAllText(Path.Combine(data, "ml_train.json"), Records(24, 0).ToJsonString());
        File.WriteAllText(Path.Combine(data, "ml_eval.json"), Records(6, 100).ToJsonString());
        File.WriteAllText(Path.Combine(data, "dataset_info.json"), """{"ml_train": {"file_name": "ml_train.json"}, "ml_eval": {"file_name": "ml_eval.json"}}""");
        var config = _dir.File("ml-" + Path.GetFileName(output) + ".yaml");
        File.WriteAllText(config, $"""
            model_name_or_path: {_model}
            stage: sft
            do_train: true
            finetuning_type: lora
            lora_rank: 4
            lora_target: all
            dataset: ml_train
            eval_dataset: ml_eval
            dataset_dir: {data}
            template: qwen3_nothink
            cutoff_len: 256
            output_dir: {output}
            logging_steps: 1
            save_steps: 2
            plot_loss: true
            per_device_train_batch_size: 4
            gradient_accumulation_steps: 1
            learning_rate: 1.0e-3
            max_steps: 6
            lr_scheduler_type: cosine
            warmup_ratio: 0.1
            eval_strategy: steps
            eval_steps: 3
            per_device_eval_batch_size: 4
            generative_eval:
              samples: 4
              max_new_tokens: 3
              labels: [Yes, No]
            {extra}
            """);
        return config;
    }

    [Fact]
    public void MovieLensStyleRunLogsGenerativeAccuracyCheckpointsStateAndPlots()
    {
        var output = _dir.File("ml-out");
        var (code, stdout, err) = Train(MovieLensConfig(output));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("eval: 6 samples of 6 records", stdout);
        var log = Log(output);
        var evals = log.Where(l => l["eval_gen_accuracy"] is not null).ToList();
        Assert.Equal([3L, 6L], evals.Select(l => l["current_steps"]!.GetValue<long>()).Distinct());
        foreach (var e in evals)
        {
            double acc = e["eval_gen_accuracy"]!.GetValue<double>(), unparseable = e["eval_gen_unparseable_rate"]!.GetValue<double>();
            Assert.InRange(acc, 0, 1);
            Assert.InRange(unparseable, 0, 1);
            Assert.True(acc + unparseable <= 1 + 1e-12, "a parsed answer is right or wrong; an unparseable one is neither");
            Assert.NotNull(e["eval_gen_f1"]);
            Assert.NotNull(e["eval_loss"]);
        }
        foreach (var f in new[] { "checkpoint-2", "checkpoint-4", "checkpoint-6" }) Assert.True(Directory.Exists(Path.Combine(output, f)), f);
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "trainer_state.json")))!;
        Assert.Equal(6, state["global_step"]!.GetValue<long>());
        Assert.Contains(state["log_history"]!.AsArray(), h => h!["eval_gen_accuracy"] is not null);
        foreach (var f in new[] { "training_loss.png", "training_eval_loss.png", "eval_results.json", "adapter_model.safetensors" })
            Assert.True(File.Exists(Path.Combine(output, f)), f);
        Assert.NotNull(JsonNode.Parse(File.ReadAllText(Path.Combine(output, "eval_results.json")))!["eval_gen_accuracy"]);

        // prompt_settings.json, at the root and in each checkpoint, holds what inference needs to ask as training did.
        foreach (var folder in new[] { output, Path.Combine(output, "checkpoint-4") })
        {
            var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "prompt_settings.json")))!.AsObject();
            Assert.Equal("qwen3", settings["template"]!.GetValue<string>());
            Assert.False(settings["enable_thinking"]!.GetValue<bool>());   // qwen3_nothink
            Assert.Equal("prompt", settings["think_block"]!.GetValue<string>());
            Assert.Equal(256, settings["cutoff_len"]!.GetValue<int>());
            Assert.Equal("left", settings["truncation"]!.GetValue<string>());
            Assert.Equal(["Yes", "No"], settings["labels"]!.AsArray().Select(l => l!.GetValue<string>()));
        }
        // infer --run takes the run's labels when --labels is not given: answers are extracted and scored against them.
        var (inferCode, _, inferErr) = TinyModelFiles.Cli(["infer", "--model", _model, "--run", output, "--data", Path.Combine(_dir.File("ml"), "ml_eval.json"),
            "--output", _dir.File("ml-preds.jsonl"), "--max-new-tokens", "2"]);
        Assert.True(inferCode == 0, inferErr);
        Assert.Contains($"labels Yes,No from {Path.Combine(output, "prompt_settings.json")}", inferErr);
        Assert.Contains("accuracy", inferErr);
        var (_, _, noteErr) = TinyModelFiles.Cli(["infer", "--model", _model, "--run", output, "--data", Path.Combine(_dir.File("ml"), "ml_eval.json"),
            "--output", _dir.File("ml-preds-2.jsonl"), "--max-new-tokens", "2", "--labels", "No,Yes"]);
        Assert.Contains("note: --labels No,Yes differs from the run's labels Yes,No", noteErr);
    }

    [Fact]
    public void ResumeFromCheckpointTrueContinuesWithTheSameLosses()
    {
        var whole = _dir.File("whole");
        var (code, _, err) = Train(MovieLensConfig(whole), "generative_eval.samples=0", "eval_strategy=no");
        Assert.True(code == 0, err);

        // The same run, "interrupted" after checkpoint-4: the newer checkpoint and the root outputs are gone.
        var part = _dir.File("part");
        var config = MovieLensConfig(part);
        (code, _, err) = Train(config, "generative_eval.samples=0", "eval_strategy=no");
        Assert.True(code == 0, err);
        Directory.Delete(Path.Combine(part, "checkpoint-6"), recursive: true);
        (code, var stdout, err) = Train(config, "generative_eval.samples=0", "eval_strategy=no", "resume_from_checkpoint=true");
        Assert.True(code == 0, err + stdout);
        static double[] Losses(string dir) => Log(dir).Where(l => l["loss"] is not null).OrderBy(l => l["current_steps"]!.GetValue<long>()).Select(l => l["loss"]!.GetValue<double>()).ToArray();
        var expected = Losses(whole);
        Assert.Equal(6, expected.Length);
        Assert.Equal(expected, Losses(part)); // bit-identical: steps 5 and 6 recomputed from checkpoint-4
        Assert.True(Directory.Exists(Path.Combine(part, "checkpoint-6")));
    }

    // The CLI with SIGINT at its default disposition: a test host started in the background inherits it ignored
    // (POSIX: a background job ignores it) and exec keeps that; python resets it before exec'ing the CLI (same pid),
    // as a terminal would have it.
    private ProcessStartInfo CliWithDefaultSigint(params string[] args)
    {
        var psi = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _dir.Path,
        };
        string[] prefix = ["-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
                           Path.Combine(AppContext.BaseDirectory, "SharpTune.Cli")];
        foreach (var a in prefix.Concat(args)) psi.ArgumentList.Add(a);
        return psi;
    }

    [Fact]
    public async Task SigintFinishesTheStepWritesACheckpointAndExits130()
    {
        var output = _dir.File("sigint-out");
        var config = MovieLensConfig(output);
        var psi = CliWithDefaultSigint("train", config, "generative_eval.samples=0", "eval_strategy=no", "max_steps=100000", "save_steps=100000", "--cache-dir", _dir.File("cache"));
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = new StringBuilder();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null)
        {
            stdout.AppendLine(line);
            if (line.StartsWith("step=3/", StringComparison.Ordinal)) break;
        }
        if (line is null) Assert.Fail($"the run ended before step 3 (exit {(p.WaitForExit(10_000) ? p.ExitCode : -1)}): {stdout}{await stderr}");
        using (var kill = Process.Start("kill", ["-INT", $"{p.Id}"])) kill.WaitForExit();
        var rest = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (!p.WaitForExit(120_000))
        {
            p.Kill();
            Assert.Fail("no exit within 120 s after SIGINT");
        }
        stdout.Append(await rest);
        var err = await stderr;
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}: {err}");
        Assert.Contains("interrupted at step", err);
        var checkpoint = Directory.GetDirectories(output, "checkpoint-*").Single();
        long step = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "trainer_state.json")))!["global_step"]!.GetValue<long>();
        Assert.True(step >= 3 && step < 100000);
        Assert.Contains($"kept {checkpoint}", err);
        Assert.True(File.Exists(Path.Combine(checkpoint, "adapter_model.safetensors")));
    }

    [Fact]
    public async Task ASecondSigintWhileACheckpointIsWrittenRemovesItsTemporaryAndKeepsThePreviousCheckpoint()
    {
        var output = _dir.File("sigint2-out");
        var config = MovieLensConfig(output);
        var psi = CliWithDefaultSigint("train", config, "generative_eval.samples=0", "eval_strategy=no", "max_steps=100000", "save_steps=2", "plot_loss=false", "--cache-dir", _dir.File("cache"));
        // Every commit waits, so the checkpoint's temporary folder exists long enough to be interrupted in.
        psi.Environment["SHARPTUNE_TEST_COMMIT_DELAY_MS"] = "300";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var first = Path.Combine(output, "checkpoint-2");
        string? temporary = null;
        var clock = Stopwatch.StartNew();
        while (temporary is null && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            // The first checkpoint complete, the second being written.
            if (File.Exists(Path.Combine(first, "trainer_state.json")) && Directory.Exists(output))
                temporary = Directory.GetDirectories(output, ".checkpoint-4.tmp-*").FirstOrDefault();
            if (temporary is null) await Task.Delay(10, TestContext.Current.CancellationToken);
        }
        if (temporary is null)
        {
            bool exited = p.HasExited;
            if (!exited) p.Kill();
            Assert.Fail($"no checkpoint-4 temporary seen ({(exited ? $"exit {p.ExitCode}: {await stderr}" : "killed")})");
        }
        using (var kill = Process.Start("kill", ["-INT", $"{p.Id}"])) kill.WaitForExit();
        await Task.Delay(100, TestContext.Current.CancellationToken);
        using (var kill = Process.Start("kill", ["-INT", $"{p.Id}"])) kill.WaitForExit();
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            Assert.Fail("no exit within 60 s after the second SIGINT");
        }
        var err = await stderr;
        await stdout;
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}: {err}");
        Assert.Contains("interrupted (SIGINT): removed", err);
        Assert.Empty(Directory.GetFileSystemEntries(output, ".*"));   // no temporary left behind
        Assert.False(Directory.Exists(Path.Combine(output, "checkpoint-4")));
        Assert.Equal(first, SharpTune.Training.Loop.CheckpointFolders.Latest(output));   // the previous checkpoint, complete
        (int code, _, err) = Train(config, "generative_eval.samples=0", "eval_strategy=no", "max_steps=4", "save_steps=2", "resume_from_checkpoint=true");
        Assert.True(code == 0, err);
    }

    [Fact]
    public void OverfitKeysReachTheOneMonitorAndStopOnOverfitStops()
    {
        var output = _dir.File("overfit-out");
        var (code, stdout, err) = Train(MovieLensConfig(output), "generative_eval.samples=0", "eval_strategy=no", "overfit_loss=100", "stop_on_overfit=true");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("stop_on_overfit ended the run at step 1/6", stdout);
        var warnings = Log(output).Where(l => l["warning"] is not null).Select(l => l["warning"]!.GetValue<string>()).ToList();
        Assert.Equal(["overfit_loss"], warnings); // per metric: only the loss threshold was moved within reach
        // The plots draw the thresholds the run watched, not the defaults.
        var bands = File.ReadAllText(Path.Combine(output, "training_loss_bands.svg"));
        Assert.Contains("overfitting (&lt; 100)", bands);
        Assert.DoesNotContain("overfitting (&lt; 0.3)", bands);
    }

    [Fact]
    public void MaxTimeEndsTheRunWithACheckpointAndExit0()
    {
        var output = _dir.File("time-out");
        var (code, stdout, err) = Train(MovieLensConfig(output), "generative_eval.samples=0", "eval_strategy=no", "max_steps=1000", "save_steps=1000", "max_time=0.001");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("the time budget (max_time", stdout);
        Assert.Contains("ended the run at step 1/1000", stdout);
        Assert.True(Directory.Exists(Path.Combine(output, "checkpoint-1")));
    }

    [Fact]
    public void BadInputIsOneLineAndExit1()
    {
        string cfg = Path.Combine(TrainConfigTests.Fixtures, "qwen3_lora_sft.yaml");
        string[] common = [$"model_name_or_path={_model}", $"dataset_dir={TrainConfigTests.DataDir}", "max_steps=1", "cutoff_len=256", "template=qwen3_nothink"];
        void Fails(string expected, string config, params string[] overrides)
        {
            var (code, _, err) = Train(config, overrides);
            Assert.True(code == 1, $"exit {code}: {err}");
            Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(expected, err);
        }
        Fails("missing.yaml", _dir.File("missing.yaml"));
        Fails("no_such_dataset", cfg, [.. common, $"output_dir={_dir.File("o1")}", "dataset=no_such_dataset"]);
        Fails("nothere.json", cfg, [.. common, $"output_dir={_dir.File("o2")}", $"dataset={_dir.File("nothere.json")}"]);
        Fails("every one of the 7 training records was dropped", cfg, [.. common, $"output_dir={_dir.File("o3")}", "cutoff_len=4", "truncation=drop"]);
        File.WriteAllText(_dir.File("afile"), "");
        Fails("output_dir", cfg, [.. common, $"output_dir={Path.Combine(_dir.File("afile"), "out")}"]);

        // generative_eval needs labels that the reference answers are among.
        Fails("is none of the labels Yes,Maybe", MovieLensConfig(_dir.File("o5")), "generative_eval.labels=[Yes,Maybe]");

        // A checkpoint of another model refuses to resume.
        var output = _dir.File("o4");
        var (code, _, err2) = Train(cfg, [.. common, $"output_dir={output}", "save_steps=1"]);
        Assert.True(code == 0, err2);
        var other = TinyModel(_dir.File("other-model"), seed: "8");
        Fails("another model", cfg, [.. common, $"model_name_or_path={other}", $"output_dir={output}", "resume_from_checkpoint=true"]);
    }

    /// <summary>Persuasion-style records (<c>input_text</c> = prompt, <c>full_text</c> = prompt + response) train through
    /// the same cache and loop; only the response is supervised, and a full_text that does not extend its input_text is
    /// an error naming the record.</summary>
    [Fact]
    public void PersuasionStyleInputTextFullTextTrainsOnTheResponseOnly()
    {
        var data = _dir.File("persuasion.jsonl");
        string[] prompts = ["Convince me to drink water.", "Argue for reading books.", "Persuade me to walk daily.", "Make the case for sleep."];
        File.WriteAllLines(data, prompts.Select((p, i) => new JsonObject
        {
            ["input_text"] = p + "\n",
            ["full_text"] = p + "\n" + $"Because it helps you, reason {i}.",
        }.ToJsonString()));
        var output = _dir.File("persuasion-out");
        var config = _dir.File("persuasion.yaml");
        File.WriteAllText(config, $"""
            model_name_or_path: {_model}
            stage: sft
            finetuning_type: lora
            lora_rank: 4
            dataset: {data}
            template: empty
            cutoff_len: 256
            output_dir: {output}
            logging_steps: 1
            per_device_train_batch_size: 2
            max_steps: 2
            """);
        var (code, stdout, err) = Train(config);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("train: 4 samples of 4 records", stdout);
        Assert.Contains("trained 2 steps", stdout);
        Assert.True(File.Exists(Path.Combine(output, "adapter_model.safetensors")));

        // inspect-masking on the same data supervises exactly each response (+ EOS where the template adds it): exit 0.
        var (mcode, mout, merr) = TinyModelFiles.Cli(["inspect-masking", "--data", data, "--tokenizer", _model, "--template", "completion"]);
        Assert.True(mcode == 0, merr + mout);

        File.WriteAllText(data, new JsonObject { ["input_text"] = "Convince me.\n", ["full_text"] = "Persuade me.\nNo." }.ToJsonString() + "\n");
        var (bad, _, berr) = Train(config, $"output_dir={_dir.File("persuasion-bad")}");
        Assert.Equal(1, bad);
        Assert.Contains("full_text", berr);
        Assert.Contains(":1", berr);
    }
}
