using SharpTune.IO;
using SharpTune.Preprocessing;

namespace SharpTune.Inference;

/// <summary>
/// Prompt flags given beside a run's saved prompt settings (<c>--run</c>): a flag that repeats the run's value is
/// harmless, one that contradicts it would make inference ask the model differently from training — an error unless
/// drift is allowed, and then every difference is listed so the caller can print it.
/// </summary>
public static class PromptDrift
{
    /// <summary>The prompt keys a flag may set (LLaMA-Factory's names, bound by <see cref="PreprocessSettingsBinder"/>).</summary>
    public static IReadOnlyList<string> Keys { get; } = ["template", "default_system", "enable_thinking", "think_block", "template_kwargs"];

    /// <summary>
    /// The settings to infer with: <paramref name="run"/> with the given flags (<paramref name="lookup"/>: key → text or
    /// null) applied, and the differences (<c>key: run X, flag Y</c>). With a difference and without
    /// <paramref name="allowDrift"/>, a <see cref="UserException"/> naming every difference. <paramref name="describe"/>
    /// names a key in messages (e.g. <c>--template</c>).
    /// </summary>
    public static (PromptSettings Settings, IReadOnlyList<string> Differences) Apply(PromptSettings run, Func<string, string?> lookup, bool allowDrift, Func<string, string> describe)
    {
        var flags = PreprocessSettingsBinder.Bind(k => Keys.Contains(k) ? lookup(k) : null, describe).Prompt;
        var diffs = new List<string>();
        var result = run;
        if (lookup("template") is not null && flags.Template != run.Template)
        {
            diffs.Add($"{describe("template")}: run '{run.Template ?? "(the model folder's chat_template)"}', flag '{flags.Template}'");
            result = result with { Template = flags.Template, TemplateSource = null };
        }
        if (lookup("default_system") is not null && flags.DefaultSystem != run.DefaultSystem)
        {
            diffs.Add($"{describe("default_system")}: run {Quote(run.DefaultSystem)}, flag {Quote(flags.DefaultSystem)}");
            result = result with { DefaultSystem = flags.DefaultSystem };
        }
        if ((lookup("enable_thinking") is not null || lookup("think_block") is not null) && flags.ThinkBlock != run.ThinkBlock)
        {
            diffs.Add($"{describe(lookup("think_block") is not null ? "think_block" : "enable_thinking")}: run think_block={Lower(run.ThinkBlock)}, flag think_block={Lower(flags.ThinkBlock)}");
            result = result with { ThinkBlock = flags.ThinkBlock };
        }
        if (lookup("template_kwargs") is not null && CanonicalJson.Serialize(flags.TemplateKwargs) != CanonicalJson.Serialize(run.TemplateKwargs))
        {
            diffs.Add($"{describe("template_kwargs")}: run {CanonicalJson.Serialize(run.TemplateKwargs)}, flag {CanonicalJson.Serialize(flags.TemplateKwargs)}");
            result = result with { TemplateKwargs = flags.TemplateKwargs };
        }
        if (diffs.Count > 0 && !allowDrift)
            throw new UserException($"prompt flags contradict the run's saved prompt settings ({string.Join("; ", diffs)}); drop them to ask the model as it was trained, or add --allow-prompt-drift");
        return (result, diffs);
    }

    private static string Quote(string? s) => s is null ? "(none)" : $"'{s}'";

    private static string Lower(ThinkBlockPlacement p) => p.ToString().ToLowerInvariant();
}
