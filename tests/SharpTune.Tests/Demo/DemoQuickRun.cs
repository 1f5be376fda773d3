using System.Diagnostics;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Demo;

/// <summary>
/// <c>sharptune demo --quick</c> run once for the whole collection (every test reads its output): the console output,
/// the exit code, the time it took and the output folder.
/// </summary>
public sealed class DemoQuickRun : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.TempDir();

    public DemoQuickRun()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var clock = Stopwatch.StartNew();
        Code = new CliApp(CommandTree.Root()).Run(["demo", "--quick", "--out", Out], o, e, new StringReader(""));
        Elapsed = clock.Elapsed;
        Output = o.ToString();
        Error = e.ToString();
    }

    /// <summary>The demo's --out folder.</summary>
    public string Out => Path.Combine(_dir.Path, "out");

    /// <summary>The demo's --out folder's parent (free for the tests' own outputs).</summary>
    public string Scratch => _dir.Path;

    public int Code { get; }
    public string Output { get; }
    public string Error { get; }
    public TimeSpan Elapsed { get; }

    /// <summary>A path under the output folder.</summary>
    public string this[string relative] => Path.Combine(Out, relative);

    /// <summary>Fails with the demo's output when it did not succeed.</summary>
    public void AssertSucceeded() => Assert.True(Code == 0, $"demo --quick exited {Code}\nstdout:\n{Output}\nstderr:\n{Error}");

    public void Dispose() => _dir.Dispose();
}

[CollectionDefinition(Name)]
public sealed class DemoQuickCollection : ICollectionFixture<DemoQuickRun>
{
    public const string Name = "demo --quick";
}
