using System.Runtime.InteropServices;
using System.Text;
using SharpTune.IO;

namespace SharpTune.Cli.CommandLine;

/// <summary>
/// Parses arguments against a tree of <see cref="CliCommand"/>s, prints help, runs the chosen verb and maps
/// failures onto exit codes: 0 success, 1 user error (one line on stderr; a file-system failure such as a missing
/// folder, a path whose parent is a file or an unwritable path counts as one), 2 internal error, 130 interrupted by
/// SIGINT, 143 terminated by SIGTERM (see <see cref="RunProcess"/>).
/// </summary>
public sealed class CliApp
{
    /// <summary>Exit code for success.</summary>
    public const int Success = 0;

    /// <summary>Exit code for bad input or a bad flag.</summary>
    public const int UserError = 1;

    /// <summary>Exit code for a bug or an unexpected failure.</summary>
    public const int InternalError = 2;

    /// <summary>Exit code after SIGINT (Ctrl-C): 128 + 2, as shells report it.</summary>
    public const int Interrupted = 130;

    /// <summary>Exit code after SIGTERM: 128 + 15.</summary>
    public const int Terminated = 143;

    private readonly CliCommand _root;

    /// <summary>Creates an app around the root command (its name is the program name).</summary>
    public CliApp(CliCommand root) => _root = root;

    /// <summary>Runs with the given arguments and streams; returns the exit code.</summary>
    public int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin)
    {
        var verbose = args.Contains("--verbose");
        try
        {
            return RunCore(args, stdout, stderr, stdin, verbose);
        }
        // A failure after a signal is the interrupt's doing (it deleted the temporaries a writer was still filling):
        // the interrupt's own line and exit code report it, not an error.
        catch (Exception) when (_signalExit != 0)
        {
            return _signalExit;
        }
        catch (Exception e) when (AsUserError(e) is { } message)
        {
            stderr.WriteLine($"error: {message}");
            if (verbose) stderr.WriteLine(e);
            return UserError;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"internal error: {e.GetType().Name}: {e.Message}");
            stderr.WriteLine(verbose ? e.ToString() : "(run again with --verbose for the stack trace)");
            return InternalError;
        }
    }

    /// <summary>
    /// <see cref="Run"/> for the real process: SIGINT and SIGTERM remove every unfinished output
    /// (<see cref="TemporaryOutputs.AbandonAll"/>), print one line saying what was removed and what was kept, and end
    /// the process with <see cref="Interrupted"/> or <see cref="Terminated"/>. Stale temporaries of killed runs that a
    /// write removes are reported as notes.
    /// </summary>
    public int RunProcess(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin)
    {
        TemporaryOutputs.StaleRemoved = path => stderr.WriteLine($"note: removed {path}, an unfinished output left by an interrupted run");
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => OnSignal(c, "SIGINT", Interrupted, stderr));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => OnSignal(c, "SIGTERM", Terminated, stderr));
        return Run(args, stdout, stderr, stdin);
    }

    // Set when the running verb handles signals itself (CliCommand.HandlesInterrupts).
    private static volatile bool _verbHandlesInterrupts;

    // The exit code of the signal being handled (0: none).
    private static volatile int _signalExit;

    private static void OnSignal(PosixSignalContext context, string name, int exitCode, TextWriter stderr)
    {
        if (_verbHandlesInterrupts) return;
        context.Cancel = true;
        _signalExit = exitCode;
        // Clean up and exit on a thread of our own: exiting from inside the runtime's signal callback can deadlock.
        new Thread(() =>
        {
            var (removed, kept) = TemporaryOutputs.AbandonAll();
            stderr.WriteLine(InterruptLine(name, removed, kept));
            stderr.Flush();
            Environment.Exit(exitCode);
        }) { IsBackground = false, Name = "sharptune-interrupt" }.Start();
    }

    /// <summary>The one line printed on interrupt.</summary>
    public static string InterruptLine(string signal, IReadOnlyList<string> removed, IReadOnlyList<string> kept)
    {
        static string Names(IReadOnlyList<string> paths) =>
            string.Join(", ", paths.Take(4).Select(p => p)) + (paths.Count > 4 ? $", … ({paths.Count} in all)" : "");
        var gone = removed.Count == 0 ? "no unfinished output to remove" : $"removed {removed.Count} unfinished output(s): {Names(removed)}";
        var stay = kept.Count == 0 ? "no output was completed, nothing kept" : $"kept {kept.Count} output(s): {Names(kept)}";
        return $"interrupted ({signal}): {gone}; {stay}";
    }

    /// <summary>
    /// The one-line message for failures that are the user's to fix: <see cref="UserException"/> (also inside an
    /// <see cref="AggregateException"/> from parallel work) and file-system failures, which .NET words with the path.
    /// Null for anything else (a bug).
    /// </summary>
    internal static string? AsUserError(Exception e)
    {
        if (e is AggregateException agg)
        {
            var inner = agg.Flatten().InnerExceptions;
            return inner.Select(AsUserError).FirstOrDefault(m => m is not null);
        }
        if (e is System.Reflection.TargetInvocationException { InnerException: { } ti }) return AsUserError(ti);
        // .NET reports a folder opened as a file as "Access to the path '…' is denied" (or "Is a directory"): say what it is.
        if (e is UnauthorizedAccessException or IOException && QuotedPath(e.Message) is { } quoted && Directory.Exists(quoted))
            return $"{quoted}: is a directory; expected a file";
        return e switch
        {
            UserException u => u.Message,
            UnauthorizedAccessException u => $"cannot write or read there: {u.Message}",
            DirectoryNotFoundException d => d.Message,
            FileNotFoundException f => f.FileName is null ? f.Message : $"file not found: {f.FileName}",
            PathTooLongException p => p.Message,
            IOException io when io.GetType() == typeof(IOException) || io is EndOfStreamException => io.Message,
            _ => null,
        };
    }

    // The path .NET quotes in a file-system message ('…'), or null.
    private static string? QuotedPath(string message)
    {
        int a = message.IndexOf('\''), b = message.LastIndexOf('\'');
        return a >= 0 && b > a + 1 ? message[(a + 1)..b] : null;
    }

    private int RunCore(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin, bool verbose)
    {
        var command = _root;
        var path = new List<string> { _root.Name };
        int i = 0;
        while (i < args.Length && command.Subcommands.Count > 0)
        {
            var a = args[i];
            if (a is "--verbose") { i++; continue; }
            // `sharptune --version` as `dotnet --version` or `git --version`: the version verb.
            if (command == _root && a is "--version" && command.Subcommands.Any(c => c.Name == "version")) a = "version";
            if (a is "--help" or "-h" or "help")
            {
                stdout.Write(GroupHelp(command, path));
                return Success;
            }
            var sub = command.Subcommands.FirstOrDefault(c => c.Name == a);
            if (sub is null)
                throw new UserException($"unknown command '{a}' for '{string.Join(' ', path)}'; expected one of: {string.Join(", ", command.Subcommands.Select(c => c.Name))}");
            command = sub;
            path.Add(a);
            i++;
        }
        if (command.Subcommands.Count > 0)
        {
            if (command == _root) { stdout.Write(GroupHelp(command, path)); return Success; }
            throw new UserException($"'{string.Join(' ', path)}' needs a sub-command: {string.Join(", ", command.Subcommands.Select(c => c.Name))}");
        }

        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var positionals = new List<string>();
        var specs = command.Options.ToDictionary(o => o.Name, StringComparer.Ordinal);
        for (; i < args.Length; i++)
        {
            var a = args[i];
            if (a is "--help" or "-h")
            {
                stdout.Write(LeafHelp(command, path));
                return Success;
            }
            if (a == "--verbose") continue;
            if (a == "--")
            {
                positionals.AddRange(args.Skip(i + 1));
                break;
            }
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var body = a[2..];
                string? inline = null;
                var eq = body.IndexOf('=');
                if (eq >= 0) { inline = body[(eq + 1)..]; body = body[..eq]; }
                if (!specs.TryGetValue(body, out var spec))
                    throw new UserException($"unknown option --{body} for '{string.Join(' ', path)}' (see --help)");
                string value;
                if (spec.IsFlag) value = inline ?? "true";
                else if (inline is not null) value = inline;
                else if (i + 1 < args.Length) value = args[++i];
                else throw new UserException($"option --{body} needs a value ({spec.ValueName})");
                if (!values.TryGetValue(body, out var list)) values[body] = list = [];
                else if (!spec.Repeatable && !spec.IsFlag) throw new UserException($"option --{body} given more than once");
                list.Add(value);
                continue;
            }
            positionals.Add(a);
        }

        foreach (var spec in command.Options)
            if (spec.Required && spec.Default is null && !values.ContainsKey(spec.Name))
                throw new UserException($"missing required option --{spec.Name} for '{string.Join(' ', path)}' (see --help)");
        var required = command.Arguments.Count(a => a.Required);
        if (positionals.Count < required)
            throw new UserException($"'{string.Join(' ', path)}' expects {string.Join(" ", command.Arguments.Select(a => a.Name))} (see --help)");
        if (!command.Arguments.Any(a => a.Variadic) && positionals.Count > command.Arguments.Count)
            throw new UserException($"unexpected argument '{positionals[command.Arguments.Count]}' for '{string.Join(' ', path)}' (see --help)");

        var handler = command.Handler ?? throw new InvalidOperationException($"verb '{command.Name}' has no handler");
        _verbHandlesInterrupts = command.HandlesInterrupts;
        return handler(new ParsedArgs(command, values, positionals, verbose, stdout, stderr, stdin));
    }

    /// <summary>Help text for a group of verbs.</summary>
    public static string GroupHelp(CliCommand group, IReadOnlyList<string> path)
    {
        var sb = new StringBuilder();
        sb.Append("Usage: ").Append(string.Join(' ', path)).Append(" <command> [options]\n");
        if (group.Description.Length > 0) sb.Append('\n').Append(group.Description.TrimEnd()).Append('\n');
        sb.Append("\nCommands:\n");
        var width = group.Subcommands.Max(c => c.Name.Length);
        foreach (var c in group.Subcommands)
            sb.Append("  ").Append(c.Name.PadRight(width + 2)).Append(c.Summary).Append('\n');
        sb.Append("\nRun '").Append(string.Join(' ', path)).Append(" <command> --help' for a command's options.\n");
        return sb.ToString();
    }

    /// <summary>Help text for a leaf verb.</summary>
    public static string LeafHelp(CliCommand command, IReadOnlyList<string> path)
    {
        var sb = new StringBuilder();
        sb.Append("Usage: ").Append(string.Join(' ', path));
        foreach (var a in command.Arguments)
            sb.Append(' ').Append(a.Required ? a.Name : $"[{a.Name}]").Append(a.Variadic ? "..." : "");
        if (command.Options.Count > 0) sb.Append(" [options]");
        sb.Append("\n\n").Append(command.Summary).Append('\n');
        if (command.Description.Length > 0) sb.Append('\n').Append(command.Description.TrimEnd()).Append('\n');
        if (command.Arguments.Count > 0)
        {
            sb.Append("\nArguments:\n");
            foreach (var a in command.Arguments) sb.Append("  ").Append(a.Name.PadRight(24)).Append(a.Help).Append('\n');
        }
        sb.Append("\nOptions:\n");
        foreach (var o in command.Options)
        {
            var left = o.IsFlag ? $"--{o.Name}" : $"--{o.Name} {o.ValueName}";
            sb.Append("  ").Append(left.PadRight(34)).Append(' ').Append(o.Help);
            if (o.Default is not null) sb.Append(" (default: ").Append(o.Default).Append(')');
            if (o.Required) sb.Append(" (required)");
            sb.Append('\n');
        }
        sb.Append("  ").Append("--verbose".PadRight(34)).Append(" Print stack traces on errors.\n");
        sb.Append("  ").Append("--help".PadRight(34)).Append(" Show this help.\n");
        return sb.ToString();
    }
}
