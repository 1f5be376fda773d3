using SharpTune.Data.Sft;
using SharpTune.Text;

namespace SharpTune.Preprocessing;

/// <summary>Everything a preprocessing run depends on; all of it goes into the cache key.</summary>
public sealed record PreprocessInputs
{
    /// <summary>The dataset file (JSON array or JSONL).</summary>
    public required string DataPath { get; init; }

    /// <summary>How to read it; null detects the format from the keys.</summary>
    public DatasetDescription? Description { get; init; }

    /// <summary>Bytes of tokenizer.json.</summary>
    public required byte[] TokenizerJson { get; init; }

    /// <summary>Bytes of tokenizer_config.json (empty when there is none).</summary>
    public required byte[] TokenizerConfigJson { get; init; }

    /// <summary>The chat template's source text (or the built-in name's text).</summary>
    public required string TemplateText { get; init; }

    /// <summary>The renderer compiled from <see cref="TemplateText"/>.</summary>
    public required IChatRenderer Renderer { get; init; }

    /// <summary>The tokenizer.</summary>
    public required ITextTokenizer Tokenizer { get; init; }

    /// <summary>Prompt settings, masking and truncation options.</summary>
    public required PreprocessOptions Options { get; init; }

    /// <summary>
    /// The one place that assembles a run from a model or tokenizer folder, a data file and settings (from
    /// <see cref="PreprocessSettingsBinder"/>): opens the folder's tokenizer, resolves the template the prompt settings
    /// name, and records the resolved template text in the prompt settings, so the settings saved with the cache
    /// entry and with checkpoints reproduce the prompts exactly.
    /// </summary>
    public static PreprocessInputs FromFolder(string tokenizerFolder, string dataPath, DatasetDescription? description, PreprocessOptions options)
    {
        var stack = TextStack.Open(tokenizerFolder, options.Prompt);
        return new PreprocessInputs
        {
            DataPath = dataPath,
            Description = description,
            TokenizerJson = stack.TokenizerJson,
            TokenizerConfigJson = stack.TokenizerConfigJson,
            TemplateText = stack.Template.Source,
            Renderer = stack.Renderer,
            Tokenizer = stack.Tokenizer,
            Options = options with { Prompt = options.Prompt with { TemplateSource = stack.Template.Source } },
        };
    }
}
