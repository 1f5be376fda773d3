using System.Globalization;

namespace SharpTune.Cli.CommandLine;

/// <summary>The options and arguments given to one verb, with typed accessors that raise clear user errors.</summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _values;
    private readonly Dictionary<string, OptionSpec> _specs;

    internal ParsedArgs(CliCommand command, Dictionary<string, List<string>> values, List<string> positionals, bool verbose, TextWriter stdout, TextWriter stderr, TextReader stdin)
    {
        Command = command;
        _values = values;
        _specs = command.Options.ToDictionary(o => o.Name);
        Positionals = positionals;
        Verbose = verbose;
        Out = stdout;
        Error = stderr;
        In = stdin;
    }

    /// <summary>The verb being run.</summary>
    public CliCommand Command { get; }

    /// <summary>Positional arguments in order.</summary>
    public IReadOnlyList<string> Positionals { get; }

    /// <summary>Whether <c>--verbose</c> was given.</summary>
    public bool Verbose { get; }

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error (progress and diagnostics).</summary>
    public TextWriter Error { get; }

    /// <summary>Standard input.</summary>
    public TextReader In { get; }

    /// <summary>Whether the option was given on the command line.</summary>
    public bool Has(string name) => _values.ContainsKey(Spec(name).Name);

    /// <summary>The option's value, its default, or null.</summary>
    public string? String(string name)
    {
        var spec = Spec(name);
        return _values.TryGetValue(name, out var v) ? v[^1] : spec.Default;
    }

    /// <summary>The option's value or its default; a user error if neither exists.</summary>
    public string RequiredString(string name) =>
        String(name) ?? throw new UserException($"missing required option --{name}");

    /// <summary>All values of a repeatable option (values may also be comma-separated).</summary>
    public IReadOnlyList<string> List(string name)
    {
        var spec = Spec(name);
        if (_values.TryGetValue(name, out var v)) return v;
        return spec.Default is null ? [] : [spec.Default];
    }

    /// <summary>An integer option.</summary>
    public int Int(string name)
    {
        var s = RequiredString(name);
        return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new UserException($"--{name}: expected an integer, got '{s}'");
    }

    /// <summary>An integer option that must be at least <paramref name="min"/>.</summary>
    public int Int(string name, int min)
    {
        var v = Int(name);
        return v >= min ? v : throw new UserException($"--{name}: expected an integer >= {min}, got {v}");
    }

    /// <summary>An integer option, or null when absent and without default.</summary>
    public int? OptionalInt(string name) => String(name) is null ? null : Int(name);

    /// <summary>A 64-bit integer option.</summary>
    public long Long(string name)
    {
        var s = RequiredString(name);
        return long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new UserException($"--{name}: expected an integer, got '{s}'");
    }

    /// <summary>A floating-point option.</summary>
    public double Double(string name)
    {
        var s = RequiredString(name);
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new UserException($"--{name}: expected a number, got '{s}'");
    }

    /// <summary>A flag, or a <c>true|false</c> valued option.</summary>
    public bool Bool(string name)
    {
        var s = String(name);
        if (s is null) return false;
        return s.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw new UserException($"--{name}: expected true or false, got '{s}'"),
        };
    }

    /// <summary>An option restricted to a set of words.</summary>
    public string Choice(string name, params string[] allowed)
    {
        var s = RequiredString(name);
        return allowed.Contains(s, StringComparer.Ordinal)
            ? s
            : throw new UserException($"--{name}: expected one of {string.Join(", ", allowed)}, got '{s}'");
    }

    /// <summary>A path option that must name an existing file.</summary>
    public string ExistingFile(string name)
    {
        var s = RequiredString(name);
        if (Directory.Exists(s)) throw new UserException($"--{name}: {s}: is a directory; expected a file");
        return File.Exists(s) ? s : throw new UserException($"--{name}: file not found: {s}");
    }

    private OptionSpec Spec(string name) =>
        _specs.TryGetValue(name, out var spec)
            ? spec
            : throw new InvalidOperationException($"verb '{Command.Name}' declares no option --{name}");
}
