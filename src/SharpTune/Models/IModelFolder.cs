using SharpTune.Preprocessing;
using SharpTune.Text;

namespace SharpTune.Models;

/// <summary>
/// A Hugging Face model folder as the stages that run a model see it: config.json, the weights, the tokenizer,
/// the chat template and generation_config.json. <see cref="ModelFolder"/> opens one from disk; tests supply
/// in-memory ones, so commands that use a model are testable without files.
/// </summary>
public interface IModelFolder : IDisposable
{
    /// <summary>The folder (for messages).</summary>
    string Path { get; }

    /// <summary>The parsed config.json.</summary>
    ModelConfig Config { get; }

    /// <summary>The weights (<c>model.safetensors</c> or a sharded index).</summary>
    ITensorSource Weights { get; }

    /// <summary>The folder's tokenizer, or null when it has none.</summary>
    ITextTokenizer? Tokenizer { get; }

    /// <summary>
    /// The ids that end generation by default: generation_config.json's <c>eos_token_id</c> when the folder has one,
    /// else config.json's (transformers' order).
    /// </summary>
    IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>The chat template that <paramref name="settings"/> name (a recorded source, a built-in or file, or the folder's own), as a renderer.</summary>
    IChatRenderer ChatRenderer(PromptSettings settings);
}
