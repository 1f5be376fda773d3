using System.Globalization;

namespace SharpTune.Preprocessing;

/// <summary>
/// Binds settings given as text under LLaMA-Factory's key names (SharpTune's own snake_case names where
/// LLaMA-Factory has none) to <see cref="PreprocessOptions"/> with its <see cref="PromptSettings"/>. The one mapping
/// from settings to preprocessing: CLI flags arrive here as their key (<c>--cutoff-len</c> → <c>cutoff_len</c>) and
/// training configs as their YAML scalars; a key that is absent keeps its default. Errors name the key as the caller
/// describes it (a flag, or <c>file:line: key</c>).
/// </summary>
/// <remarks>
/// Keys (see <see cref="Keys"/>): <c>template</c>, <c>default_system</c>, <c>enable_thinking</c>, <c>think_block</c>,
/// <c>template_kwargs</c> (a JSON object, e.g. <c>{"enable_thinking": false}</c>; a YAML mapping can be passed as its
/// JSON), <c>train_on_eot</c>, <c>completion_eos</c>, <c>cutoff_len</c>, <c>truncation</c>, <c>train_on_prompt</c>,
/// <c>mask_history</c>, <c>allow_render_mismatch</c>. Booleans are <c>true</c>/<c>false</c> in any case (YAML's
/// <c>True</c>). <c>enable_thinking</c> is LLaMA-Factory's spelling of the think-block placement: false puts the empty
/// think block in the prompt (<c>think_block: prompt</c>), true in the supervised answer (<c>think_block: answer</c>);
/// giving both with different meanings is an error.
/// </remarks>
public static class PreprocessSettingsBinder
{
    /// <summary>Every key the binder reads, prompt settings first.</summary>
    public static IReadOnlyList<string> Keys { get; } =
    [
        "template", "default_system", "enable_thinking", "think_block", "template_kwargs", "train_on_eot", "completion_eos",
        "cutoff_len", "truncation", "train_on_prompt", "mask_history", "allow_render_mismatch",
    ];

    /// <summary>Binds from a dictionary of key → text; keys not in <see cref="Keys"/> are left to the caller. Errors read <c>SOURCE: key: …</c>.</summary>
    public static PreprocessOptions Bind(IReadOnlyDictionary<string, string?> values, string source) =>
        Bind(k => values.TryGetValue(k, out var v) ? v : null, k => $"{source}: {k}");

    /// <summary>
    /// Binds from <paramref name="lookup"/> (key → text, null when absent); <paramref name="describe"/> names a key in
    /// errors (default: the key itself).
    /// </summary>
    public static PreprocessOptions Bind(Func<string, string?> lookup, Func<string, string>? describe = null)
    {
        describe ??= k => k;
        var defaults = new PreprocessOptions();
        var p = defaults.Prompt;

        var thinkBlock = Choice(lookup, describe, "think_block", ["prompt", "answer"]) switch
        {
            "answer" => ThinkBlockPlacement.Answer,
            "prompt" => ThinkBlockPlacement.Prompt,
            _ => (ThinkBlockPlacement?)null,
        };
        if (Bool(lookup, describe, "enable_thinking") is bool thinking)
        {
            var implied = thinking ? ThinkBlockPlacement.Answer : ThinkBlockPlacement.Prompt;
            if (thinkBlock is { } given && given != implied)
                throw new UserException($"{describe("enable_thinking")}: {thinking.ToString().ToLowerInvariant()} contradicts {describe("think_block")}: {given.ToString().ToLowerInvariant()} (enable_thinking false = think_block prompt, true = answer)");
            thinkBlock = implied;
        }
        var template = lookup("template");
        if (template is { Length: 0 }) throw new UserException($"{describe("template")}: expected a built-in template name or a .jinja path, got an empty value");

        var prompt = new PromptSettings
        {
            Template = template,
            DefaultSystem = lookup("default_system"),
            TemplateKwargs = lookup("template_kwargs") is { } kw ? TemplateKwargsJson.Parse(kw, describe("template_kwargs")) : p.TemplateKwargs,
            ThinkBlock = thinkBlock ?? p.ThinkBlock,
            TrainOnEot = Bool(lookup, describe, "train_on_eot") ?? p.TrainOnEot,
            CompletionEos = Bool(lookup, describe, "completion_eos") ?? p.CompletionEos,
        };
        return new PreprocessOptions
        {
            Prompt = prompt,
            CutoffLen = CutoffLen(lookup, describe) ?? defaults.CutoffLen,
            Truncation = Choice(lookup, describe, "truncation", ["left", "history", "drop", "error"]) switch
            {
                "left" => TruncationMode.Left,
                "history" => TruncationMode.History,
                "drop" => TruncationMode.Drop,
                "error" => TruncationMode.Error,
                _ => defaults.Truncation,
            },
            TrainOnPrompt = Bool(lookup, describe, "train_on_prompt") ?? defaults.TrainOnPrompt,
            MaskHistory = Bool(lookup, describe, "mask_history") ?? defaults.MaskHistory,
            AllowRenderMismatch = Bool(lookup, describe, "allow_render_mismatch") ?? defaults.AllowRenderMismatch,
            AllowRenderMismatchHint = MismatchHint(describe("allow_render_mismatch")),
        };
    }

    // A flag is added (--allow-render-mismatch); a key is set to true (allow_render_mismatch: true, where it came from).
    private static string MismatchHint(string described) =>
        described.StartsWith("--", StringComparison.Ordinal) ? $"add {described}"
        : described == "allow_render_mismatch" ? "set allow_render_mismatch: true"
        : $"set allow_render_mismatch: true ({described})";

    private static int? CutoffLen(Func<string, string?> lookup, Func<string, string> describe)
    {
        if (lookup("cutoff_len") is not { } s) return null;
        if (!int.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            throw new UserException($"{describe("cutoff_len")}: expected an integer, got '{s}'");
        return v >= 2 ? v : throw new UserException($"{describe("cutoff_len")}: expected an integer >= 2, got {v}");
    }

    private static bool? Bool(Func<string, string?> lookup, Func<string, string> describe, string key) =>
        lookup(key)?.Trim().ToLowerInvariant() switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw new UserException($"{describe(key)}: expected true or false, got '{lookup(key)}'"),
        };

    private static string? Choice(Func<string, string?> lookup, Func<string, string> describe, string key, string[] allowed)
    {
        if (lookup(key) is not { } s) return null;
        var v = s.Trim().ToLowerInvariant();
        return Array.IndexOf(allowed, v) >= 0 ? v : throw new UserException($"{describe(key)}: expected one of {string.Join(", ", allowed)}, got '{s}'");
    }
}
