namespace SharpTune.Inference;

/// <summary>How to generate: greedy when <see cref="Temperature"/> is 0, else sampling with a seed.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens generated per prompt.</summary>
    public int MaxNewTokens { get; init; } = 32;

    /// <summary>Softmax temperature; 0 means greedy (argmax, deterministic).</summary>
    public float Temperature { get; init; }

    /// <summary>Keep only the k most likely tokens before sampling; 0 disables.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p (nucleus); 1 disables.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Seed of the sampler (sampling only).</summary>
    public int Seed { get; init; }

    /// <summary>Token ids that end a sequence (finish reason <c>eos</c>; the id is kept in the output ids).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Strings that end a sequence when they appear in its decoded text (finish reason <c>stop</c>; the text is cut before them). Needs a decoder.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Checks the values; a bad one is a <see cref="UserException"/>.</summary>
    public void Validate()
    {
        if (MaxNewTokens < 0) throw new UserException($"max_new_tokens must be >= 0, got {MaxNewTokens}");
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) throw new UserException($"temperature must be >= 0, got {Temperature}");
        if (TopK < 0) throw new UserException($"top_k must be >= 0, got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new UserException($"top_p must be in (0, 1], got {TopP}");
        if (StopStrings.Any(string.IsNullOrEmpty)) throw new UserException("stop strings must not be empty");
    }
}

/// <summary>Why a sequence stopped.</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token was generated.</summary>
    Eos,

    /// <summary>A stop string appeared in the decoded text.</summary>
    Stop,

    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> was reached.</summary>
    Length,
}

/// <summary>One prompt's generation.</summary>
/// <param name="Ids">The generated ids only (an ending eos id included).</param>
/// <param name="Text">The decoded generated text (without the eos token, cut before a stop string); null without a decoder.</param>
/// <param name="FinishReason">Why it stopped.</param>
public sealed record GenerationResult(IReadOnlyList<int> Ids, string? Text, FinishReason FinishReason);
