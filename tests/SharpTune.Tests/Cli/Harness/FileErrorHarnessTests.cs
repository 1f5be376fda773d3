using SharpTune.Cli;
using SharpTune.Cli.CommandLine;

namespace SharpTune.Tests.Cli.Harness;

/// <summary>The bad paths the harness puts in place of one placeholder.</summary>
public static class BadPath
{
    /// <summary>The case names that apply to a slot.</summary>
    public static IEnumerable<string> For(Placeholder p) => (p.Slot switch
    {
        Slot.InputFile => p.HeaderOnly is null ? ["missing", "folder", "empty"] : new[] { "missing", "folder", "empty", "header-only" },
        Slot.InputFolder => ["missing", "file", "empty-folder"],
        Slot.OutputFolder => p.MayExist ? ["parent-is-file", "unwritable"] : ["parent-is-file", "unwritable", "existing-non-empty"],
        Slot.OutputFile => ["parent-is-file", "unwritable", "folder"],
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    }).Where(c => p.Only is null || p.Only.Contains(c));

    /// <summary>
    /// Creates the bad path for <paramref name="kind"/> under <paramref name="dir"/>; returns it and the path the error
    /// line must name (the path itself or the ancestor that blocks it).
    /// </summary>
    public static (string Path, string[] Named) Make(string kind, Placeholder p, string dir)
    {
        var path = Path.Combine(dir, "bad-" + p.Name);
        switch (kind)
        {
            case "missing": return (path, [path]);
            case "folder": Directory.CreateDirectory(path); return (path, [path]);
            case "empty": File.WriteAllText(path, ""); return (path, [path]);
            case "header-only": File.WriteAllText(path, p.HeaderOnly); return (path, [path]);
            case "file": File.WriteAllText(path, "a file, not a folder\n"); return (path, [path]);
            case "empty-folder": Directory.CreateDirectory(path); return (path, [path]);
            case "parent-is-file":
                File.WriteAllText(path, "a file\n");
                return (Path.Combine(path, "sub"), [Path.Combine(path, "sub"), path]);
            case "unwritable":
                // /proc refuses new entries even for root, so this works where tests run as root.
                var proc = "/proc/sharptune-harness-" + p.Name;
                return (Path.Combine(proc, "x"), [Path.Combine(proc, "x"), proc]);
            case "existing-non-empty":
                Directory.CreateDirectory(path);
                File.WriteAllText(Path.Combine(path, "keep.txt"), "user data\n");
                return (path, [path]);
            default: throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }
}

/// <summary>
/// Every verb of <see cref="VerbTable"/>, every path placeholder, every bad path: exit 1 and exactly one line
/// ("error: ...") naming the path; never exit 2 and never a stack trace without --verbose.
/// </summary>
public class FileErrorHarnessTests
{
    /// <summary>(row, placeholder, bad path kind) for every applicable combination.</summary>
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var row in VerbTable.Rows)
            foreach (var p in row.Placeholders)
                foreach (var kind in BadPath.For(p))
                    data.Add(row.Name, p.Name, kind);
        return data;
    }

    /// <summary>The rows whose valid invocation must succeed.</summary>
    public static TheoryData<string> RunnableRows()
    {
        var data = new TheoryData<string>();
        foreach (var row in VerbTable.Rows.Where(r => r.Runs)) data.Add(row.Name);
        return data;
    }

    internal static (int Code, string Out, string Err) Run(VerbRow row, Func<string, string> fill, string dir)
    {
        var args = row.Fill(fill, dir);
        var o = new StringWriter();
        var e = new StringWriter();
        var code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(row.Stdin));
        return (code, o.ToString(), e.ToString());
    }

    [Theory]
    [MemberData(nameof(RunnableRows))]
    public void TheValidRowSucceeds(string rowName)
    {
        using var fx = new VerbFixture();
        var (code, _, err) = Run(VerbTable.Row(rowName), fx.Valid, fx.Dir);
        Assert.True(code == 0, $"{rowName}: exit {code}: {err}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadPathExitsOneWithOneLineNamingIt(string rowName, string placeholder, string kind)
    {
        var row = VerbTable.Row(rowName);
        var p = row.Placeholders.Single(x => x.Name == placeholder);
        using var fx = new VerbFixture();
        var (bad, named) = BadPath.Make(kind, p, fx.Dir);
        var (code, _, err) = Run(row, name => name == placeholder ? bad : fx.Valid(name), fx.Dir);
        var lines = err.TrimEnd('\n').Split('\n');
        Assert.True(code == CliApp.UserError, $"{rowName} {placeholder}={kind}: exit {code}, stderr:\n{err}");
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), $"{rowName} {placeholder}={kind}: not one error line:\n{err}");
        Assert.True(named.Any(n => lines[0].Contains(n, StringComparison.Ordinal)), $"{rowName} {placeholder}={kind}: the line names none of {string.Join(", ", named)}: {lines[0]}");
        if (kind == "existing-non-empty") Assert.Equal("user data\n", File.ReadAllText(Path.Combine(bad, "keep.txt")));
        // A folder where a file belongs is named as such, not as a missing file or a permission problem.
        if (kind == "folder") Assert.True(lines[0].Contains("is a directory", StringComparison.Ordinal), $"{rowName} {placeholder}={kind}: does not say 'is a directory': {lines[0]}");
    }

    [Fact]
    public void StatsAppliesTheDefaultCutoffItsHelpStates()
    {
        using var fx = new VerbFixture();
        var (code, output, err) = Run(VerbTable.Row("stats"), fx.Valid, fx.Dir);
        Assert.True(code == 0, err);
        Assert.Contains("over cutoff_len 1024: 0 (0.00%)", output);
        Assert.Contains("(default: 1024)", CliApp.LeafHelp(CommandTree.Root().Subcommands.Single(c => c.Name == "stats"), ["sharptune", "stats"]));
    }

    [Fact]
    public void VerboseAddsTheStackTraceOnlyThen()
    {
        using var fx = new VerbFixture();
        var row = VerbTable.Row("prepare movielens");
        var blocker = Path.Combine(fx.Dir, "blocker");
        File.WriteAllText(blocker, "x");
        var verbose = row with { Args = [.. row.Args, "--verbose"] };
        var (code, _, err) = Run(verbose, n => n == "out" ? Path.Combine(blocker, "sub") : fx.Valid(n), fx.Dir);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("   at ", err);
    }
}
