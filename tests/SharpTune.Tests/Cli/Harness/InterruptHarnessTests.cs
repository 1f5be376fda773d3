using SharpTune.Cli.CommandLine;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Cli.Harness;

/// <summary>
/// Starts the real CLI process on verbs that write large outputs, sends SIGINT (or SIGTERM) while their temporaries
/// exist, and checks what is left: no temporary, no incomplete final output, exit 130 (143) and one line saying
/// what was removed and kept. SHARPTUNE_TEST_COMMIT_DELAY_MS holds each commit back so the signal always lands
/// while the temporaries exist. A new verb joins by adding a row to <see cref="Rows"/>.
/// </summary>
public class InterruptHarnessTests
{

    /// <summary>
    /// A verb row of <see cref="VerbTable"/>, the output placeholder to watch, and extra arguments making the output
    /// large. <paramref name="Watch"/>: signal once a name containing it exists (default: a temporary, with every commit
    /// held back); a verb that keeps something on purpose names it in <paramref name="Kept"/> and runs without the delay.
    /// </summary>
    public sealed record InterruptRow(string Row, string Output, string[] Overrides, string? Watch = null, string? Kept = null, Func<string[], string[]>? Rerun = null);

    private static readonly InterruptRow[] Rows =
    [
        new("prepare movielens", "out", []),
        new("init-model", "out", ["--hidden", "256", "--layers", "4", "--intermediate", "1024", "--heads", "4", "--head-dim", "64"]),
        new("preprocess", "cache", []),
        new("tokenizer train", "out", []),
        new("prepare synthetic-movielens", "out", ["--users", "2000"]),
        new("generate-data", "outfile", []),
        new("export", "exportdir", []),
        // infer keeps OUTPUT.partial: the rerun resumes from it.
        new("infer", "outfile", ["--data", "{bigsft}", "--max-new-tokens", "64", "--batch-size", "1"], Watch: ".partial", Kept: ".partial (partial; rerun the same command to resume)"),
        // train finishes the step and keeps a checkpoint (its own handler, its own line); many steps so the signal
        // lands mid-run (key=value overrides, appended), and the rerun resumes for a few steps only.
        new("train", "trainout", ["max_steps=100000", "save_steps=100000"], Watch: "trainer_log.jsonl", Kept: "checkpoint-",
            Rerun: args => [.. args.Select(a => a == "max_steps=100000" ? "max_steps=4" : a), "resume_from_checkpoint=true"]),
    ];

    /// <summary>Row names.</summary>
    public static TheoryData<string> RowNames()
    {
        var d = new TheoryData<string>();
        foreach (var r in Rows) d.Add(r.Row);
        return d;
    }

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "SharpTune.Cli");

    private static string[] Args(VerbRow row, Func<string, string> fill, string dir, string[] overrides)
    {
        var args = row.Fill(fill, dir).ToList();
        string Value(string v) => v.StartsWith('{') && v.EndsWith('}') ? fill(v[1..^1]) : v;
        for (int i = 0; i + 1 < overrides.Length; i += 2)
        {
            int at = args.IndexOf(overrides[i]);
            if (at >= 0) args[at + 1] = Value(overrides[i + 1]);
            else args.AddRange([overrides[i], Value(overrides[i + 1])]);
        }
        return [.. args];
    }

    [Theory]
    [MemberData(nameof(RowNames))]
    public void SigintRemovesEveryTemporaryAndExits130(string rowName) => Interrupt(rowName, CliApp.Interrupted, "SIGINT");

    [Fact]
    public void SigtermExits143() => Interrupt("prepare movielens", CliApp.Terminated, "SIGTERM");

    private static void Interrupt(string rowName, int expectedCode, string signalName)
    {
        var ir = Rows.Single(r => r.Row == rowName);
        var row = VerbTable.Row(rowName);
        using var fx = new VerbFixture();
        var outPath = fx.Valid(ir.Output);
        var watch = Path.GetDirectoryName(Path.GetFullPath(outPath))!;
        var script = Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "interrupt_cli.py");
        var env = new Dictionary<string, string>();
        if (ir.Watch is not null) { env["INTERRUPT_WATCH"] = ir.Watch; env["INTERRUPT_COMMIT_DELAY_MS"] = "0"; }
        var args = Args(row, fx.Valid, fx.Dir, ir.Overrides);
        var (code, stdout, driverErr) = ProcessRunner.Run("python3", [script, Cli, watch, signalName, .. args], stdin: row.Stdin, env: env);
        Assert.True(code == 0, driverErr);
        var r = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        var err = r.GetProperty("stderr").GetString()!;
        Assert.True(r.GetProperty("seen").GetArrayLength() > 0, $"{rowName}: no {ir.Watch ?? "temporary"} appeared before the signal: {err}");
        Assert.True(expectedCode == r.GetProperty("rc").GetInt32(), $"{rowName}: exit {r.GetProperty("rc")}, stderr:\n{err}");
        var last = err.TrimEnd('\n').Split('\n')[^1];
        Assert.Equal(0, r.GetProperty("left").GetArrayLength());
        if (ir.Kept is not null)
        {
            // What the verb keeps on purpose is named, and is usable: the same command resumes and completes.
            Assert.StartsWith("interrupted", last);
            Assert.Contains("kept ", last);
            Assert.Contains(ir.Kept, last);
            var (again, _, againErr) = ProcessRunner.Run(Cli, ir.Rerun?.Invoke(args) ?? args);
            Assert.True(again == 0, $"{rowName}: the rerun after the interrupt failed: {againErr}");
            return;
        }
        Assert.StartsWith($"interrupted ({signalName}): removed ", last);
        Assert.Contains("kept", last);
        // No final output appeared: the commit was held back, so no complete file exists in the output folder.
        if (ir.Output == "out" && Directory.Exists(outPath))
            Assert.DoesNotContain(Directory.EnumerateFiles(outPath), f => f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith(".safetensors", StringComparison.Ordinal));
    }

    [Fact]
    public void TheNextRunRemovesATemporaryAKilledRunLeftAndSaysSo()
    {
        using var fx = new VerbFixture();
        var row = VerbTable.Row("prepare movielens");
        var outDir = fx.Valid("out");
        Directory.CreateDirectory(outDir);
        // A pid that cannot be alive (above Linux's pid_max limit of 2^22).
        var stale = Path.Combine(outDir, ".train.json.tmp-9999999-0123456789abcdef");
        File.WriteAllText(stale, "[\n  {\"half\": ");
        var (code, _, err) = ProcessRunner.Run(Cli, Args(row, fx.Valid, fx.Dir, []));
        Assert.True(code == 0, err);
        Assert.False(File.Exists(stale));
        Assert.Contains($"note: removed {stale}, an unfinished output left by an interrupted run", err);
        Assert.True(File.Exists(Path.Combine(outDir, "train.json")));
    }
}
