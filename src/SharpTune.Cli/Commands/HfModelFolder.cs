using SharpTune.Data.Sft;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Preprocessing;
using SharpTune.Text.Templates;
using SharpTune.Text.Tokenization;

namespace SharpTune.Cli.Commands;

/// <summary>
/// A Hugging Face model folder for <c>generate</c>: config.json, safetensors weights, and tokenizer.json with the
/// chat template of tokenizer_config.json. Chat prompts go through <see cref="PromptBuilder"/>, the same builder
/// training uses, so <c>--chat</c> asks the model in the format preprocessing trained it on.
/// </summary>
internal sealed class HfModelFolder : IModelFolder
{
    public ModelConfig LoadConfig(string dir) => ModelConfigJson.Load(dir);

    public ITensorSource OpenWeights(string dir) => SafetensorsCheckpoint.Open(dir);

    public IPromptCodec? OpenTokenizer(string dir) =>
        File.Exists(Path.Combine(dir, "tokenizer.json")) ? new Codec(dir) : null;

    private sealed class Codec(string dir) : IPromptCodec
    {
        private readonly Lazy<Tokenizer> _tokenizer = new(() => Tokenizer.Load(Path.Combine(dir, "tokenizer.json")));

        // The template is only needed for --chat: plain prompts work with a folder that has no chat_template.
        private readonly Lazy<PromptBuilder> _builder = new(() => new PromptBuilder(
            new ChatTemplateRenderer(ChatTemplate.FromTokenizerConfig(Path.Combine(dir, "tokenizer_config.json"))), new PreprocessOptions()));

        public int[] Encode(string text, bool addSpecialTokens) => _tokenizer.Value.Encode(text, addSpecialTokens).Ids;

        public string Decode(ReadOnlySpan<int> ids) => _tokenizer.Value.Decode(ids, skipSpecialTokens: true);

        public string RenderChat(string userMessage) => _builder.Value.InferencePrompt(new SftRecord
        {
            Source = "--prompt", Index = 0, Kind = SftRecordKind.Conversation, Turns = [new SftTurn("user", userMessage)],
        });
    }
}
