using SharpTune.Data.Sft;
using SharpTune.Inference;
using SharpTune.Preprocessing;
using SharpTune.Tests.Support;
using SharpTune.Tests.Tokenization;

namespace SharpTune.Tests.Inference;

/// <summary>
/// infer's prompts are, token for token, what training tokenized before the final answer — for Alpaca (system,
/// history), messages and ShareGPT records, with the real Qwen3, Llama 3 and Mistral tokenizers and templates.
/// </summary>
public sealed class InferencePromptParityTests
{
    private static readonly string[] Records =
    [
        """{"instruction": "Predict whether the user will like the candidate movie.", "input": "User's last 2 watched movies:\n1. Heat (1995) (rating ≈ 4.5)\n2. Babe (1995) (rating ≈ 3.0)\n\nCandidate movie:\nMoney Pit, The (1986)", "output": "No", "system": "You are a movie recommendation assistant.", "history": [["Hi", "Hello! How can I help?"]], "user_id": 1, "movie_id": 2}""",
        """{"instruction": "Answer Yes or No.", "input": "", "output": "Yes", "system": "", "history": []}""",
        """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Is water wet?"}, {"role": "assistant", "content": "Yes"}, {"role": "user", "content": "Is fire cold?"}, {"role": "assistant", "content": "No"}]}""",
        """{"messages": [{"role": "user", "content": "Say hello"}, {"role": "assistant", "content": "Hello there"}]}""",
        """{"conversations": [{"from": "human", "value": "Is the sky green?"}, {"from": "gpt", "value": "No"}], "system": "Answer with one word."}""",
        """{"conversations": [{"from": "system", "value": "Short answers."}, {"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "4"}, {"from": "human", "value": "3+3?"}, {"from": "gpt", "value": "6"}]}""",
    ];

    [Theory]
    [InlineData("qwen3", null)]
    [InlineData("llama3", null)]
    [InlineData("llama2", "mistral")]
    public void Infer_prompts_equal_the_training_prefix(string tokenizer, string? template)
    {
        TokenizerOracle.Require();
        var stack = TextStack.Open(TokenizerOracle.TokenizerPath(tokenizer), template);
        var options = new PreprocessOptions { Prompt = new PromptSettings { Template = template, DefaultSystem = "Default system prompt." } };
        var preprocessor = new SftPreprocessor(stack.Renderer, stack.Tokenizer, options);
        var builder = new PromptBuilder(stack.Renderer, options.Prompt);
        using var dir = new TempDir();
        // One file per format (a file holds one format), read by infer's reader and by training's.
        foreach (var group in new[] { Records[..2], Records[2..4], Records[4..] })
        {
            var path = Path.Combine(dir.Path, $"data-{Array.IndexOf(Records, group[0])}.jsonl");
            File.WriteAllText(path, string.Join("\n", group) + "\n");
            var items = InferenceInput.Read(path);
            var training = SftDatasetReader.Read(path);
            Assert.Equal(training.Count, items.Count);
            for (int i = 0; i < items.Count; i++)
            {
                var sample = preprocessor.ProcessOne(training[i]);
                var (_, ids) = BatchInference.Prompt(builder, stack.Tokenizer, items[i]);
                Assert.Equal(sample.Ids[..sample.FinalAnswerStart], ids);
                Assert.Equal(training[i].Turns[^1].Content, items[i].Reference);
            }
        }
    }

    [Theory]
    [InlineData("qwen3", null, false)]
    [InlineData("llama3", null, false)]
    [InlineData("llama3", null, true)]
    [InlineData("llama2", "mistral", false)]
    [InlineData("llama2", "mistral", true)]
    [InlineData("gemma3", null, false)]
    public void Label_tokens_from_the_prompts_tail_equal_the_whole_prompts_continuation(string tokenizer, string? template, bool addSpecialTokens)
    {
        TokenizerOracle.Require();
        var stack = TextStack.Open(TokenizerOracle.TokenizerPath(tokenizer), template);
        var builder = new PromptBuilder(stack.Renderer, new PromptSettings { Template = template, DefaultSystem = "Default system prompt." });
        var labels = SharpTune.Evaluation.LabelSet.Parse("Yes,No,Not sure,Oui");
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "data.jsonl");
        File.WriteAllText(path, string.Join("\n", Records[..2].Concat(Records[..2])) + "\n");
        var prompts = InferenceInput.Read(path).Select(item => BatchInference.Prompt(builder, stack.Tokenizer, item, addSpecialTokens)).ToList();
        prompts.Add(("Plain text without any special token: Yes or", stack.Tokenizer.Encode("Plain text without any special token: Yes or", addSpecialTokens)));
        var labelTokenizer = new LabelTokenizer(stack.Tokenizer, labels, addSpecialTokens);
        for (int i = 0; i < prompts.Count; i++)
        {
            var (text, ids) = prompts[i];
            var got = labelTokenizer.For(text, ids, i);
            for (int j = 0; j < labels.Count; j++)
            {
                var whole = stack.Tokenizer.Encode(text + labels[j], addSpecialTokens);
                Assert.Equal(ids, whole[..ids.Length]);
                Assert.Equal(whole[ids.Length..], got[j]);
            }
        }
        // Records 3 and 4 repeat 1 and 2, so their tails were seen before; with Qwen3's, Llama 3's and Gemma's templates
        // every prompt ends in the same assistant header after a special token, so record 2 hits too (Mistral's
        // [/INST] is plain text in this vocabulary: its tail runs from the BOS).
        if (!addSpecialTokens) Assert.True(labelTokenizer.TailHits >= (template == "mistral" ? 2 : 3), $"{labelTokenizer.TailHits} tail hits");
        else Assert.Equal(0, labelTokenizer.TailHits);
    }

    [Fact]
    public void Id_fields_are_kept_and_plain_prompt_lines_are_one_user_turn()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "p.jsonl");
        File.WriteAllText(path, "{\"prompt\": \"Hi\", \"id\": 7}\n\n{\"prompt\": \"Yo\", \"label\": \"Yes\"}\n");
        var items = InferenceInput.Read(path);
        Assert.Equal(2, items.Count);
        Assert.Equal([new SftTurn("user", "Hi")], items[0].Record.Turns);
        Assert.Equal("7", Assert.Single(items[0].IdFields).Value);
        Assert.Null(items[0].Reference);
        Assert.Equal("Yes", items[1].Reference);
        File.WriteAllText(path, Records[0] + "\n");
        var ids = InferenceInput.Read(path)[0].IdFields;
        Assert.Equal(["user_id", "movie_id"], ids.Select(k => k.Key));
    }
}
