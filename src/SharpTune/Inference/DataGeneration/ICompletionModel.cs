namespace SharpTune.Inference.DataGeneration;

/// <summary>What <see cref="DataGenerator"/> needs from a base model: plain tokenization and batched generation.</summary>
public interface ICompletionModel
{
    /// <summary>The name stored in each record (the model folder's name).</summary>
    string Name { get; }

    /// <summary>Longest prompt + completion, in tokens.</summary>
    int ContextLength { get; }

    /// <summary>End-of-sequence ids (generation_config.json, else config.json).</summary>
    IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>The text of every special or added token of the tokenizer (a prompt holding one is contaminated).</summary>
    IReadOnlyList<string> SpecialTokenTexts { get; }

    /// <summary>Where a chat template was found in the folder (never applied), or null when there is none.</summary>
    string? ChatTemplateSource { get; }

    /// <summary>The tokenizer's ids of <paramref name="text"/> with no special tokens added (no BOS, no EOS).</summary>
    int[] Encode(string text);

    /// <summary>Generates for every prompt, in order.</summary>
    IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> prompts, GenerationOptions options);
}
