namespace SharpTune.Training.Configuration;

/// <summary>How a configuration value is read from YAML or a <c>key=value</c> override.</summary>
public enum ConfigValueKind
{
    /// <summary><c>true</c>/<c>false</c> (also PyYAML's <c>yes</c>/<c>no</c>/<c>on</c>/<c>off</c>).</summary>
    Bool,

    /// <summary>A whole number.</summary>
    Int,

    /// <summary>A number (<c>1.0e-4</c> and <c>1e-4</c> alike, as HfArgumentParser converts both).</summary>
    Double,

    /// <summary>Text; a plain scalar keeps its exact text (<c>Yes</c> stays <c>Yes</c>).</summary>
    String,

    /// <summary>One of a fixed list of words.</summary>
    Choice,

    /// <summary>A wall-clock duration: <c>90m</c>, <c>1.5h</c>, <c>45s</c> or plain seconds; stored as seconds.</summary>
    Duration,

    /// <summary><c>val_size</c>: a whole count (≥ 1) or a fraction in (0, 1).</summary>
    CountOrFraction,

    /// <summary><c>resume_from_checkpoint</c>: a path, or <c>true</c> for the newest checkpoint (<c>false</c> = none).</summary>
    PathOrBool,

    /// <summary>A list of strings (a YAML sequence, or a comma list).</summary>
    StringList,
}

/// <summary>One key of a training configuration: its name, type, default, meaning and limits.</summary>
/// <param name="Name">The key as written in YAML (LLaMA-Factory's name where it has one).</param>
/// <param name="Group">The README group (model, method, dataset, train, output, eval, watch).</param>
/// <param name="Kind">How its value is read.</param>
/// <param name="Default">The default value (null: unset).</param>
/// <param name="Meaning">One line for <c>--print-config</c> and the README.</param>
public sealed record ConfigKey(string Name, string Group, ConfigValueKind Kind, object? Default, string Meaning)
{
    /// <summary>The allowed words of a <see cref="ConfigValueKind.Choice"/> key.</summary>
    public IReadOnlyList<string> Choices { get; init; } = [];

    /// <summary>Smallest allowed number (inclusive unless <see cref="MinExclusive"/>), or null.</summary>
    public double? Min { get; init; }

    /// <summary>Whether <see cref="Min"/> itself is not allowed (rates and sizes that must be &gt; 0).</summary>
    public bool MinExclusive { get; init; }

    /// <summary>Largest allowed number (inclusive), or null.</summary>
    public double? Max { get; init; }

    /// <summary>Whether null (YAML <c>null</c>/<c>~</c>) is accepted and means "unset".</summary>
    public bool Nullable { get; init; }

    /// <summary>Whether this key is SharpTune's own (not a LLaMA-Factory or transformers key).</summary>
    public bool SharpTuneOwn { get; init; }

    /// <summary>The default as shown by <c>--print-config</c> and in the README.</summary>
    public string DefaultText => Default is null ? "null" : ConfigFormat.Value(Default);
}

/// <summary>Where a configuration value came from.</summary>
public enum ConfigSource
{
    /// <summary>Not given: the key's default (or a value derived from other keys).</summary>
    Default,

    /// <summary>The YAML file.</summary>
    File,

    /// <summary>A <c>key=value</c> argument.</summary>
    Override,
}

/// <summary>A resolved value with its provenance.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The typed value (bool, long, double, string, string list, or null).</param>
/// <param name="Source">Where it came from.</param>
/// <param name="Location"><c>file:line</c> for file values, <c>override 'k=v'</c> for overrides, null for defaults.</param>
public sealed record ConfigEntry(ConfigKey Key, object? Value, ConfigSource Source, string? Location)
{
    /// <summary>A note shown beside derived defaults (e.g. "2 × lora_rank").</summary>
    public string? Note { get; init; }
}
