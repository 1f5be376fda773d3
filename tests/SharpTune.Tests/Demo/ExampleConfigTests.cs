using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Training.Configuration;
using SharpTune.Training.Loop;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Demo;

/// <summary>
/// The real-model examples (examples/movielens_qwen3_lora.yaml, examples/behaviours_mistral_lora.yaml) load with only
/// the model folder and dataset_dir pointed at local fixtures — the demo's MovieLens dataset and tiny models of the
/// example's architecture — and run a couple of steps.
/// </summary>
[Collection(DemoQuickCollection.Name)]
public sealed class ExampleConfigTests(DemoQuickRun demo)
{
    private static string Example(string name) => Path.Combine(TestEnvironment.RepoRoot, "examples", name);

    [Fact]
    public void TheMovieLensQwen3ExampleLoadsWithTheRealModelSetup()
    {
        demo.AssertSucceeded();
        var c = TrainConfig.Load(Example("movielens_qwen3_lora.yaml"), [$"model_name_or_path={demo["model"]}", $"dataset_dir={demo["dataset"]}"]);
        Assert.Equal("qwen3", c.Template.Name);
        Assert.Equal(1024, c.CutoffLen);
        Assert.Equal(5e-5, c.LearningRate);
        Assert.Equal(100, c.SaveSteps);
        Assert.Equal(8, c.SaveTotalLimit);
        Assert.Equal(TimeSpan.FromHours(1.5), c.MaxTime);
        Assert.False(c.FullFineTuning);
        Assert.Equal(150, c.GenerativeEval.Samples);
        Assert.Equal(["Yes", "No"], c.GenerativeEval.Labels!);
        Assert.Equal(["movielens_train"], c.Dataset);
        Assert.Equal(["movielens_eval"], c.EvalDataset);
        var datasets = c.ResolveDatasets(); // through the dataset_info.json the demo (and README) writes
        Assert.NotEmpty(datasets.Train);
        Assert.NotEmpty(datasets.Eval);
        var (code, output, err) = Cli("train", Example("movielens_qwen3_lora.yaml"), $"model_name_or_path={demo["model"]}", $"dataset_dir={demo["dataset"]}", "--print-config");
        Assert.True(code == 0, err);
        Assert.Contains("# template resolves to", output);
    }

    [Fact]
    public void TheMovieLensQwen3ExampleTrainsTwoStepsOnATinyQwen3()
    {
        demo.AssertSucceeded();
        var outDir = Path.Combine(demo.Scratch, "example-qwen3");
        var (code, output, err) = Cli("train", Example("movielens_qwen3_lora.yaml"), $"model_name_or_path={demo["model"]}", $"dataset_dir={demo["dataset"]}",
            $"output_dir={outDir}", "max_steps=2", "per_device_train_batch_size=1", "gradient_accumulation_steps=1", "eval_steps=2", "save_steps=2",
            "generative_eval.samples=2", "per_device_eval_batch_size=4", "--cache-dir", Path.Combine(demo.Scratch, "example-cache"));
        Assert.True(code == 0, output + err);
        Assert.True(File.Exists(Path.Combine(outDir, "adapter_model.safetensors")));
        Assert.Single(CheckpointFolders.List(outDir));
    }

    [Fact]
    public void TheBehavioursMistralExampleLoadsAndTrainsTwoStepsOnATinyMistral()
    {
        demo.AssertSucceeded();
        var model = Path.Combine(demo.Scratch, "tiny-mistral");
        if (!Directory.Exists(model))
        {
            var (c0, _, e0) = Cli("init-model", "--arch", "mistral", "--hidden", "32", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--head-dim", "16",
                "--intermediate", "64", "--tokenizer", demo["tokenizer"], "--seed", "3", "--out", model);
            Assert.True(c0 == 0, e0);
        }
        var data = Path.Combine(demo.Scratch, "behaviour-data");
        Directory.CreateDirectory(data);
        File.Copy(demo["behaviours/behaviours.jsonl"], Path.Combine(data, "behaviours.jsonl"), overwrite: true);
        File.WriteAllText(Path.Combine(data, "dataset_info.json"), """
            {"behaviours": {"file_name": "behaviours.jsonl", "formatting": "sharegpt", "columns": {"messages": "messages"},
                            "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant", "system_tag": "system"}}}
            """);
        var c = TrainConfig.Load(Example("behaviours_mistral_lora.yaml"), [$"model_name_or_path={model}", $"dataset_dir={data}"]);
        Assert.Equal("mistral", c.Template.Name);
        Assert.False(c.FullFineTuning);
        Assert.Equal(["behaviours"], c.Dataset);

        var outDir = Path.Combine(demo.Scratch, "example-mistral");
        var (code, output, err) = Cli("train", Example("behaviours_mistral_lora.yaml"), $"model_name_or_path={model}", $"dataset_dir={data}",
            $"output_dir={outDir}", "max_steps=2", "per_device_train_batch_size=2", "gradient_accumulation_steps=1", "eval_steps=2", "save_steps=2",
            "--cache-dir", Path.Combine(demo.Scratch, "example-cache"));
        Assert.True(code == 0, output + err);
        Assert.True(File.Exists(Path.Combine(outDir, "adapter_model.safetensors")));
        // The system message comes before the first [INST], as the template promises.
        var settings = File.ReadAllText(Path.Combine(outDir, "prompt_settings.json"));
        Assert.Contains("\"template\": \"mistral\"", settings);
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }
}
