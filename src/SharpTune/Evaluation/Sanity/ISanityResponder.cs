namespace SharpTune.Evaluation.Sanity;

/// <summary>
/// Answers the sanity prompts with one checkpoint: greedy replies with the run's prompt settings. The generating
/// implementation is <see cref="ModelSanityResponder"/> (adapters over one loaded base model); tests also use fixed replies.
/// </summary>
public interface ISanityResponder
{
    /// <summary>The reply to each prompt, in order, from <paramref name="checkpoint"/>.</summary>
    IReadOnlyList<string> Answer(SanityCheckpoint checkpoint, IReadOnlyList<SanityPrompt> prompts);
}

/// <summary>What the <c>sanity</c> verb hands the factory of its responder.</summary>
/// <param name="Checkpoints">Every checkpoint that will be asked, in order (so the base model is loaded once).</param>
/// <param name="BaseModel"><c>--model</c>: the base model folder for adapters, or null to use the adapter's <c>base_model_name_or_path</c>.</param>
/// <param name="RunDir"><c>--run</c>: the run folder (its saved prompt settings), or null with <c>--checkpoints</c>.</param>
/// <param name="MaxNewTokens">Most tokens per reply.</param>
public sealed record SanityResponderRequest(IReadOnlyList<SanityCheckpoint> Checkpoints, string? BaseModel, string? RunDir, int MaxNewTokens);
