using SharpTune.Preprocessing;

namespace SharpTune.Inference;

/// <summary>
/// A training run given to inference (<c>--run DIR</c>): a run folder (its latest <c>checkpoint-N</c>), a checkpoint,
/// or a preprocessing cache entry. It supplies the prompt settings training rendered with, the run's
/// <c>cutoff_len</c>, <c>truncation</c> and label names where its <c>prompt_settings.json</c> records them, and, when
/// the checkpoint holds one, the LoRA adapter it trained.
/// </summary>
/// <param name="Checkpoint">The folder holding <c>prompt_settings.json</c>.</param>
/// <param name="Settings">The saved settings.</param>
/// <param name="AdapterPath">The checkpoint itself when it holds <c>adapter_config.json</c>, else null.</param>
public sealed record RunFolder(string Checkpoint, RunPromptSettings Settings, string? AdapterPath)
{
    /// <summary>The saved prompt settings.</summary>
    public PromptSettings Prompt => Settings.Prompt;

    /// <summary>
    /// The checkpoint itself when it holds full-model weights (a full fine-tuning run), else null: then the run's
    /// weights are only there, and a base model given beside <c>--run</c> would answer untrained.
    /// </summary>
    public string? ModelPath =>
        File.Exists(Path.Combine(Checkpoint, "model.safetensors")) || File.Exists(Path.Combine(Checkpoint, "model.safetensors.index.json")) ? Checkpoint : null;

    /// <summary>Resolves <paramref name="dir"/> as <see cref="PromptSettingsFile.Find"/> does.</summary>
    public static RunFolder Open(string dir)
    {
        var file = PromptSettingsFile.FindFile(dir);
        var checkpoint = Path.GetDirectoryName(Path.GetFullPath(file))!;
        var adapter = File.Exists(Path.Combine(checkpoint, "adapter_config.json")) ? checkpoint : null;
        return new RunFolder(checkpoint, PromptSettingsFile.ReadRun(file), adapter);
    }
}
