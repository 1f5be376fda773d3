using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Engine;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;
using SharpTune.Training;

namespace SharpTune.Tests.Training;

/// <summary><c>sharptune bench train-step</c>: its output formats, its batch sources, and its errors.</summary>
public sealed class BenchTrainStepCliTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _model;

    public BenchTrainStepCliTests()
    {
        var tok = TinyModelFiles.WriteTokenizer(_dir.File("tok"));
        _model = _dir.File("model");
        var (code, _, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", tok, _model));
        Assert.True(code == 0, err);
    }

    public void Dispose() => _dir.Dispose();

    private static List<JsonElement> JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public void Json_prints_one_object_per_step_and_a_summary()
    {
        var (code, stdout, err) = TinyModelFiles.Cli("bench", "train-step", "--model", _model, "--batch", "3", "--seq", "12", "--supervised", "4",
            "--steps", "3", "--warmup", "1", "--lr", "1e-2", "--lora-rank", "4", "--json");
        Assert.True(code == 0, err);
        var lines = JsonLines(stdout);
        Assert.Equal(5, lines.Count);
        for (int s = 0; s < 4; s++)
        {
            foreach (var key in new[] { "step", "loss", "token_accuracy", "tokens_per_s", "forward_s", "backward_s", "optimizer_s" })
                Assert.True(lines[s].TryGetProperty(key, out _), $"step object lacks {key}");
            Assert.Equal(s + 1, lines[s].GetProperty("step").GetInt32());
            Assert.Equal(s == 0, lines[s].GetProperty("warmup").GetBoolean());
            Assert.True(lines[s].GetProperty("tokens_per_s").GetDouble() > 0);
        }
        Assert.True(lines[3].GetProperty("loss").GetDouble() < lines[0].GetProperty("loss").GetDouble(), "a few steps on one batch lower its loss");
        Assert.True(lines[4].GetProperty("peak_rss_mib").GetDouble() > 0);
        Assert.True(lines[4].GetProperty("median_tokens_per_s").GetDouble() > 0);
    }

    [Fact]
    public void Human_output_full_mode_and_an_adapter_folder()
    {
        var (code, stdout, err) = TinyModelFiles.Cli("bench", "train-step", "--model", _model, "--batch", "2", "--seq", "10", "--steps", "1", "--warmup", "0", "--full");
        Assert.True(code == 0, err);
        Assert.StartsWith("full fine-tuning of ", stdout);
        Assert.Matches(@"step 1/1: loss \d+\.\d{4}, token accuracy \d\.\d{3}, [\d,]+ tokens/s", stdout);
        Assert.Contains("median ", stdout);

        var config = ModelConfigJson.Load(_model);
        var adapter = LoraInitializer.Initialize(config, new LoraConfig { Rank = 2, Alpha = 4, Targets = LoraTargets.Parse("q_proj,v_proj", "t") }, 3);
        PeftAdapter.Save(_dir.File("adapter"), adapter, _model);
        (code, stdout, err) = TinyModelFiles.Cli("bench", "train-step", "--model", _model, "--adapter", _dir.File("adapter"), "--batch", "2", "--seq", "10", "--steps", "1", "--warmup", "0");
        Assert.True(code == 0, err);
        Assert.StartsWith("LoRA r 2, alpha 4 on q_proj,v_proj of ", stdout);
    }

    [Fact]
    public void A_batch_file_with_padding_trains_on_exactly_that_batch()
    {
        int[][] ids = [[1, 2, 3, 4, 5, 6], [7, 8, 9, 0, 0, 0]];
        int[][] labels = [[-100, -100, 3, 4, 5, 6], [-100, 8, 9, -100, -100, -100]];
        int[][] mask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]];
        File.WriteAllText(_dir.File("batch.json"), JsonSerializer.Serialize(new { input_ids = ids, labels, attention_mask = mask }));
        var (code, stdout, err) = TinyModelFiles.Cli("bench", "train-step", "--model", _model, "--batch-file", _dir.File("batch.json"), "--steps", "1", "--warmup", "0", "--seed", "5", "--json");
        Assert.True(code == 0, err);
        double loss = JsonLines(stdout)[0].GetProperty("loss").GetDouble();

        // The same batch, model and seeded LoRA initialization in-process give the same loss.
        var config = ModelConfigJson.Load(_model);
        using var weights = SafetensorsCheckpoint.Open(_model);
        using var backend = ComputeBackends.Create();
        using var model = TrainableDecoder.CreateLora(config, weights, LoraInitializer.Initialize(config, new LoraConfig(), 5), backend, new TrainingOptions { MaxTokens = 9 });
        var batch = TrainingBatch.FromPadded(ids, labels, mask, config.VocabSize);
        Assert.Equal(6, batch.SupervisedCount);
        Assert.Equal(model.Evaluate(batch).LossSum / batch.SupervisedCount, loss, 12);
    }

    [Theory]
    [InlineData("--full --adapter x", "error: --adapter and --full exclude each other: an adapter is LoRA")]
    [InlineData("--seq 8 --supervised 8", "error: random batch: expected 1 to 7 supervised tokens per row, got 8")]
    [InlineData("--lora-targets q_proj,w_proj", "error: --lora-targets: unknown LoRA target 'w_proj'")]
    [InlineData("--batch-file missing.json", "error: missing.json: batch file not found")]
    [InlineData("--lr -1", "error: learning rate must be a non-negative number, got -1")]
    public void Bad_flags_are_one_line_user_errors(string flags, string expected)
    {
        var args = new[] { "bench", "train-step", "--model", _model }.Concat(flags.Split(' ')).ToArray();
        var (code, stdout, err) = TinyModelFiles.Cli(args);
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal("", stdout);
        Assert.StartsWith(expected, err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("""{"labels": [[1]]}""", "field 'input_ids' is missing")]
    [InlineData("""{"input_ids": [[1, 2]], "labels": [[-100, "x"]]}""", "labels[0] holds \"x\", expected an integer")]
    [InlineData("""{"input_ids": [[1, 2]], "labels": [[-100, 2]], "attention_mask": [[0, 1]]}""", "row 0: attention_mask must be right padding")]
    [InlineData("""{"input_ids": [[1, 99]], "labels": [[-100, 2]]}""", "row 0, position 1: token id 99 is outside the vocabulary")]
    [InlineData("""{"input_ids": [[1, 2]], """, "not valid JSON")]
    public void Bad_batch_files_name_the_file_and_the_field(string json, string expected)
    {
        File.WriteAllText(_dir.File("bad.json"), json);
        var (code, _, err) = TinyModelFiles.Cli("bench", "train-step", "--model", _model, "--batch-file", _dir.File("bad.json"));
        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith($"error: {_dir.File("bad.json")}: ", err);
        Assert.Contains(expected, err);
    }
}
