using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Cli.Commands;
using SharpTune.Data.Sft;
using SharpTune.Engine;
using SharpTune.Inference;
using SharpTune.Models;
using SharpTune.Preprocessing;
using SharpTune.Tests.Inference;
using SharpTune.Tests.Preprocessing;
using SharpTune.Text;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Cli;

/// <summary>The generate verb through an in-memory model folder (the checkpoint reader and tokenizer plug in at merge).</summary>
public sealed class GenerateCommandTests
{
    private static readonly ModelConfig Config = RandomModels.Config(ModelArchitecture.Qwen3, tied: true, vocab: 53) with { EosTokenIds = [52] };
    private static readonly InMemoryTensorSource Weights = RandomModels.Weights(Config, 9, bf16: false);

    /// <summary>An in-memory model folder: the random model, a letter tokenizer (optional) and a C# ChatML template.</summary>
    private sealed class Folder(LetterTokenizer? tokenizer, ModelConfig? config = null) : IModelFolder
    {
        public string Path => "in-memory";
        public ModelConfig Config => config ?? GenerateCommandTests.Config;
        public ITensorSource Weights => GenerateCommandTests.Weights;
        public ITextTokenizer? Tokenizer => tokenizer;
        public IReadOnlyList<int> EosTokenIds => Config.EosTokenIds;
        public IChatRenderer ChatRenderer(PromptSettings settings) => new FakeChatMl();
        public void Dispose() { } // the weights are shared by the tests
    }

    private static (int Code, string Out, string Err) Run(bool tokenizer, params string[] args) =>
        Run(tokenizer ? new LetterTokenizer() : null, args);

    private static (int Code, string Out, string Err) Run(LetterTokenizer? tokenizer, params string[] args) => Run(tokenizer, null, args);

    private static (int Code, string Out, string Err) Run(LetterTokenizer? tokenizer, ModelConfig? config, params string[] args)
    {
        var root = new CliCommand("sharptune", "t").Add(GenerateCommand.Create(_ => new Folder(tokenizer, config)));
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(root).Run(["generate", "--model", TestEnvironment.RepoRoot, .. args], o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    private static IReadOnlyList<GenerationResult> Expected(int[][] prompts, GenerationOptions options, ITextTokenizer? decoder)
    {
        using var backend = ComputeBackends.Create();
        using var weights = DecoderWeights.Load(Config, Weights, backend);
        using var model = new DecoderModel(weights);
        using var gen = new Generator(model, 1, 128);
        return gen.Generate(prompts, options, decoder);
    }

    private static JsonElement[] Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();

    [Fact]
    public void Prompt_ids_and_input_file_give_one_line_per_prompt_in_order()
    {
        using var dir = TestEnvironment.TempDir();
        var input = dir.File("prompts.jsonl");
        File.WriteAllText(input, "{\"ids\": [1, 2, 3]}\n\n{\"ids\": [7]}\n{\"ids\": [4, 4, 4, 4, 4, 4]}\n");
        int[][] prompts = [[1, 2, 3], [7], [4, 4, 4, 4, 4, 4]];
        var expected = Expected(prompts, new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [52] }, null);

        var (code, output, err) = Run(false, "--input", input, "--max-new-tokens", "6", "--batch-size", "2");
        Assert.Equal(0, code);
        Assert.Contains("3 prompt(s)", err);
        var lines = Lines(output);
        Assert.Equal(3, lines.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i].Ids, lines[i].GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            Assert.Equal(expected[i].FinishReason.ToString().ToLowerInvariant(), lines[i].GetProperty("finish_reason").GetString());
            Assert.Equal(JsonValueKind.Null, lines[i].GetProperty("text").ValueKind);
        }

        (code, output, _) = Run(false, "--prompt-ids", "4,4 4  4 4 4", "--max-new-tokens", "6", "--output", dir.File("out.jsonl"));
        Assert.Equal(0, code);
        Assert.Equal("", output);
        var written = Lines(File.ReadAllText(dir.File("out.jsonl")));
        Assert.Equal(expected[2].Ids, written.Single().GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
    }

    [Fact]
    public void Text_prompts_chat_and_stop_strings_go_through_the_tokenizer()
    {
        var codec = new LetterTokenizer();
        // The chat prompt is the user turn rendered by the folder's template with the generation prompt (think block closed).
        const string chatPrompt = "<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
        var ids = codec.Encode(chatPrompt, addSpecialTokens: true);
        var free = Expected([ids], new GenerationOptions { MaxNewTokens = 8, EosTokenIds = [52] }, codec)[0];
        var spy = new LetterTokenizer();
        var (code, output, err) = Run(spy, "--prompt", "hello", "--chat", "--add-special-tokens", "true", "--max-new-tokens", "8");
        Assert.Equal(0, code);
        Assert.Equal([chatPrompt], spy.EncodedTexts);
        var line = Lines(output).Single();
        Assert.Equal(free.Ids, line.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal(free.Text, line.GetProperty("text").GetString());

        if (free.FinishReason != FinishReason.Length || free.Text!.Length < 3) return;
        string stop = free.Text.Substring(1, 2);
        (code, output, _) = Run(true, "--prompt", "hello", "--chat", "--add-special-tokens", "true", "--max-new-tokens", "8", "--stop", stop);
        Assert.Equal(0, code);
        line = Lines(output).Single();
        Assert.Equal("stop", line.GetProperty("finish_reason").GetString());
        Assert.Equal(free.Text[..free.Text.IndexOf(stop, StringComparison.Ordinal)], line.GetProperty("text").GetString());
    }

    [Fact]
    public void Run_renders_chat_prompts_with_the_saved_prompt_settings_as_training_did()
    {
        using var dir = TestEnvironment.TempDir();
        var settings = new PromptSettings { DefaultSystem = "be brief", ThinkBlock = ThinkBlockPlacement.Prompt };
        Directory.CreateDirectory(dir.File("run/checkpoint-3"));
        PromptSettingsFile.Write(dir.File("run/checkpoint-3"), settings);

        var plain = new LetterTokenizer();
        Assert.Equal(0, Run(plain, "--prompt", "hello", "--chat", "--max-new-tokens", "2").Code);
        var withRun = new LetterTokenizer();
        var (code, output, _) = Run(withRun, "--prompt", "hello", "--chat", "--run", dir.File("run"), "--max-new-tokens", "2");
        Assert.Equal(0, code);
        var prompt = Assert.Single(withRun.EncodedTexts);
        Assert.NotEqual(Assert.Single(plain.EncodedTexts), prompt);
        Assert.StartsWith("<|im_start|>system\nbe brief<|im_end|>\n", prompt);

        // It is the training prompt prefix of the same question (the text before the supervised answer).
        var record = new SftRecord
        {
            Source = "t", Index = 0, Kind = SftRecordKind.Conversation, Turns = [new SftTurn("user", "hello"), new SftTurn("assistant", "Yes")],
        };
        var training = new SftPreprocessor(new FakeChatMl(), new FakeCharTokenizer(), new PreprocessOptions { Prompt = settings }).Builder.RenderTraining(record);
        Assert.Equal(training.Text[..training.Answers[^1].Start], prompt);
        var expected = Expected([withRun.Encode(prompt, false)], new GenerationOptions { MaxNewTokens = 2, EosTokenIds = [52] }, null)[0];
        Assert.Equal(expected.Ids, Lines(output).Single().GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());

        Assert.Contains("add --chat", Run(true, "--prompt", "hello", "--run", dir.File("run")).Err);
        Assert.Contains("no prompt_settings.json", Run(true, "--prompt", "hello", "--chat", "--run", dir.Path).Err);
    }

    [Theory]
    [InlineData("exactly one of", "--prompt-ids", "1 2", "--input", "x.jsonl")]
    [InlineData("--prompt-ids: expected a non-negative token id, got 'x'", "--prompt-ids", "1 x")]
    [InlineData("token id 99 is outside the vocabulary", "--prompt-ids", "1 99")]
    [InlineData("no tokenizer could be loaded", "--prompt", "hi")]
    [InlineData("top_p must be in (0, 1]", "--prompt-ids", "1", "--top-p", "0")]
    public void Bad_input_is_a_one_line_user_error(string message, params string[] args)
    {
        var (code, output, err) = Run(false, args);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains(message, err);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData(false, null, true)]      // a plain prompt: the tokenizer's special tokens (BOS), as transformers' tokenizer(text)
    [InlineData(true, null, false)]      // a rendered chat prompt holds them already
    [InlineData(false, "false", false)]
    [InlineData(true, "true", true)]
    [InlineData(false, "auto", true)]
    public void Text_prompts_get_special_tokens_unless_rendered_by_the_chat_template(bool chat, string? flag, bool expected)
    {
        var spy = new LetterTokenizer();
        string[] args = ["--prompt", "hello", "--max-new-tokens", "1", .. chat ? new[] { "--chat" } : [], .. flag is null ? [] : new[] { "--add-special-tokens", flag }];
        var (code, _, err) = Run(spy, args);
        Assert.True(code == 0, err);
        Assert.Equal([expected], spy.SpecialFlags);
    }

    [Fact]
    public void Template_and_system_need_chat_and_a_run_contradiction_is_an_error()
    {
        Assert.Contains("--template sets how --chat renders prompts; add --chat", Run(true, "--prompt", "hi", "--template", "chatml").Err);
        Assert.Contains("--system sets how --chat renders prompts; add --chat", Run(true, "--prompt", "hi", "--system", "Be brief.").Err);
        Assert.Contains("--allow-prompt-drift applies to --run DIR", Run(true, "--prompt", "hi", "--chat", "--allow-prompt-drift").Err);
    }

    [Fact]
    public void Generating_past_max_position_embeddings_warns_once_and_generates()
    {
        var small = Config with { MaxPositionEmbeddings = 6 };
        var (code, output, err) = Run(null, small, "--prompt-ids", "1 2 3 4", "--max-new-tokens", "4");
        Assert.True(code == 0, err);
        Assert.Single(Lines(output));
        var warnings = err.Split('\n').Where(l => l.StartsWith("warning:", StringComparison.Ordinal)).ToList();
        Assert.Equal("warning: the longest prompt (4 tokens) + --max-new-tokens 4 can reach 8 positions, past the model's max_position_embeddings 6 (config.json); the model may degrade there (transformers warns the same)", Assert.Single(warnings));
        (code, _, err) = Run(null, small, "--prompt-ids", "1 2", "--max-new-tokens", "4");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("warning:", err);
    }

    [Fact]
    public void Bad_input_lines_name_the_file_and_line()
    {
        using var dir = TestEnvironment.TempDir();
        var input = dir.File("p.jsonl");
        File.WriteAllText(input, "{\"ids\": [1]}\n{\"ids\": [1, -2]}\n");
        var (code, _, err) = Run(false, "--input", input);
        Assert.Equal(1, code);
        Assert.Contains("p.jsonl:2", err);
        File.WriteAllText(input, "{\"ids\": [1]}\nnot json\n");
        (code, _, err) = Run(false, "--input", input);
        Assert.Equal(1, code);
        Assert.Contains("p.jsonl:2: not valid JSON", err);
    }
}
