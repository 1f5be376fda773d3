namespace SharpTune.Cli.CommandLine;

/// <summary>
/// One command-line option: <c>--name VALUE</c>, or a flag <c>--name</c> (which also accepts <c>--name=true|false</c>).
/// </summary>
/// <param name="Name">Long name without the leading dashes, e.g. <c>history-len</c>.</param>
/// <param name="Help">One line of help text.</param>
/// <param name="ValueName">Placeholder shown in help (e.g. <c>N</c>, <c>PATH</c>); null for flags.</param>
/// <param name="Default">Default shown in help and returned when the option is absent; null means none.</param>
/// <param name="Required">Whether the option must be given.</param>
/// <param name="Repeatable">Whether the option may be given more than once (values are collected in order).</param>
public sealed record OptionSpec(
    string Name,
    string Help,
    string? ValueName = "VALUE",
    string? Default = null,
    bool Required = false,
    bool Repeatable = false)
{
    /// <summary>True when the option takes no value.</summary>
    public bool IsFlag => ValueName is null;

    /// <summary>A flag: present means true.</summary>
    public static OptionSpec Flag(string name, string help) => new(name, help, ValueName: null);
}

/// <summary>A positional argument.</summary>
/// <param name="Name">Placeholder shown in help, e.g. <c>PATH</c>.</param>
/// <param name="Help">One line of help text.</param>
/// <param name="Required">Whether it must be given.</param>
/// <param name="Variadic">Whether it takes all remaining positional arguments.</param>
public sealed record ArgumentSpec(string Name, string Help, bool Required = true, bool Variadic = false);
