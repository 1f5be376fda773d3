namespace SharpTune.Cli.CommandLine;

/// <summary>
/// A verb of the CLI: either a group of sub-verbs (<c>sharptune tokenizer encode</c>) or a leaf with options and a
/// handler. The handler returns the process exit code (0 success).
/// </summary>
public sealed class CliCommand
{
    /// <summary>Creates a verb.</summary>
    public CliCommand(string name, string summary)
    {
        Name = name;
        Summary = summary;
    }

    /// <summary>The verb's word.</summary>
    public string Name { get; }

    /// <summary>One line for listings.</summary>
    public string Summary { get; }

    /// <summary>Longer help text printed under the usage line (may be empty).</summary>
    public string Description { get; init; } = "";

    /// <summary>Options this verb accepts (in help order).</summary>
    public List<OptionSpec> Options { get; } = [];

    /// <summary>Positional arguments, in order.</summary>
    public List<ArgumentSpec> Arguments { get; } = [];

    /// <summary>Sub-verbs, for groups.</summary>
    public List<CliCommand> Subcommands { get; } = [];

    /// <summary>The action of a leaf verb.</summary>
    public Func<ParsedArgs, int>? Handler { get; set; }

    /// <summary>Adds an option and returns this command (fluent).</summary>
    public CliCommand Option(string name, string help, string valueName = "VALUE", string? defaultValue = null, bool required = false, bool repeatable = false)
    {
        Options.Add(new OptionSpec(name, help, valueName, defaultValue, required, repeatable));
        return this;
    }

    /// <summary>Adds a flag and returns this command (fluent).</summary>
    public CliCommand Flag(string name, string help)
    {
        Options.Add(OptionSpec.Flag(name, help));
        return this;
    }

    /// <summary>Adds a positional argument and returns this command (fluent).</summary>
    public CliCommand Argument(string name, string help, bool required = true, bool variadic = false)
    {
        Arguments.Add(new ArgumentSpec(name, help, required, variadic));
        return this;
    }

    /// <summary>Adds a sub-verb and returns this command (fluent).</summary>
    public CliCommand Add(CliCommand sub)
    {
        Subcommands.Add(sub);
        return this;
    }

    /// <summary>
    /// True for a verb that registers its own SIGINT/SIGTERM handling (e.g. train: finish the step, checkpoint);
    /// <see cref="CliApp.RunProcess"/>'s handler then does nothing while this verb runs.
    /// </summary>
    public bool HandlesInterrupts { get; private set; }

    /// <summary>Marks the verb as handling SIGINT/SIGTERM itself and returns it (fluent).</summary>
    public CliCommand HandlingInterruptsItself()
    {
        HandlesInterrupts = true;
        return this;
    }

    /// <summary>Sets the handler and returns this command (fluent).</summary>
    public CliCommand Handle(Func<ParsedArgs, int> handler)
    {
        Handler = handler;
        return this;
    }
}
