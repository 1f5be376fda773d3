using SharpTune.Cli;
using SharpTune.Cli.CommandLine;

namespace SharpTune.Tests.Cli;

public class CliAppTests
{
    private static (int Code, string Out, string Err) Run(CliCommand root, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = new CliApp(root).Run(args, o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    private static CliCommand Sample(Func<ParsedArgs, int> handler) =>
        new CliCommand("tool", "t").Add(
            new CliCommand("go", "run it")
                .Option("count", "how many", "N", "3")
                .Option("name", "a name", "NAME", required: true)
                .Flag("fast", "be fast")
                .Handle(handler));

    [Fact]
    public void ParsesTypedOptionsDefaultsAndFlags()
    {
        int count = 0; string? name = null; bool fast = false;
        var (code, _, err) = Run(Sample(a => { count = a.Int("count"); name = a.String("name"); fast = a.Bool("fast"); return 0; }),
            "go", "--name", "x", "--fast");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Equal(3, count);
        Assert.Equal("x", name);
        Assert.True(fast);
    }

    [Fact]
    public void UserErrorsAreOneLineAndExitOne()
    {
        var (code, _, err) = Run(Sample(a => { a.Int("count"); return 0; }), "go", "--name", "x", "--count", "abc");
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal("error: --count: expected an integer, got 'abc'", err.Trim());
    }

    [Theory]
    [InlineData("go", "--bogus", "1")]
    [InlineData("go")]
    [InlineData("nope")]
    [InlineData("go", "--name")]
    public void BadFlagsAreUserErrors(params string[] args)
    {
        var (code, _, err) = Run(Sample(_ => 0), args);
        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith("error: ", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void VersionFlagAtTheRootRunsTheVersionVerb()
    {
        var (code, output, err) = Run(CommandTree.Root(), "--version");
        Assert.True(code == 0, err);
        var (code2, expected, _) = Run(CommandTree.Root(), "version");
        Assert.Equal(0, code2);
        Assert.Equal(expected, output);
        Assert.Contains("SharpTune", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void InternalErrorsExitTwo()
    {
        var (code, _, err) = Run(Sample(_ => throw new InvalidOperationException("boom")), "go", "--name", "x");
        Assert.Equal(CliApp.InternalError, code);
        Assert.Contains("boom", err);
    }

    [Fact]
    public void EveryVerbHasHelp()
    {
        static IEnumerable<(CliCommand, List<string>)> Leaves(CliCommand c, List<string> path)
        {
            if (c.Subcommands.Count == 0) { yield return (c, path); yield break; }
            foreach (var s in c.Subcommands)
                foreach (var l in Leaves(s, [.. path, s.Name])) yield return l;
        }
        var root = CommandTree.Root();
        foreach (var (leaf, path) in Leaves(root, []))
        {
            var (code, output, _) = Run(CommandTree.Root(), [.. path, "--help"]);
            Assert.Equal(0, code);
            Assert.StartsWith("Usage: sharptune " + string.Join(' ', path), output);
            Assert.Contains(leaf.Summary, output);
        }
    }
}
