using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.IO;
using SharpTune.Preprocessing;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Cli.Harness;

/// <summary>
/// Every option's default agrees in the three places a user meets it: <c>--help</c> (the option spec), what the
/// code does when the option is absent, and what README.md states. The code side is checked by running every
/// runnable <see cref="VerbTable"/> row twice, without the option and with <c>--opt HELP_DEFAULT</c>: the outputs
/// must be the same. The README side parses the defaults README documents for each verb and compares them with the specs.
/// </summary>
public sealed partial class DefaultsHarnessTests
{
    private static readonly CliCommand Root = CommandTree.Root();

    /// <summary>The leaf command a row runs (its leading words).</summary>
    internal static CliCommand CommandOf(VerbRow row)
    {
        var c = Root;
        foreach (var word in row.Args)
        {
            var sub = c.Subcommands.FirstOrDefault(s => s.Name == word);
            if (sub is null) break;
            c = sub;
        }
        return c;
    }

    // The demo trains a model (slow, and covered by its own tests); the others run in well under a second.
    private static readonly string[] SlowRows = ["demo"];

    /// <summary>(row, option) for every valued option with a help default that the row does not already give.</summary>
    public static TheoryData<string, string> OptionsWithDefaults()
    {
        var data = new TheoryData<string, string>();
        foreach (var row in VerbTable.Rows.Where(r => r.Runs && !SlowRows.Contains(r.Name)))
            foreach (var o in CommandOf(row).Options.Where(o => o.Default is not null && !o.IsFlag && !row.Args.Contains("--" + o.Name)))
                data.Add(row.Name, o.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(OptionsWithDefaults))]
    public void GivingAnOptionItsHelpDefaultChangesNothing(string rowName, string option)
    {
        var row = VerbTable.Row(rowName);
        var spec = CommandOf(row).Options.Single(o => o.Name == option);
        var without = RunIsolated(row);
        var with = RunIsolated(row with { Args = [.. row.Args, "--" + option, spec.Default!] });
        Assert.True(without.Code == 0, $"{rowName}: exit {without.Code}: {without.Err}");
        Assert.Equal(without.Code, with.Code);
        Assert.Equal(without.Out, with.Out);
        Assert.Equal(without.Err, with.Err);
        Assert.Equal(without.Files, with.Files);
    }

    private sealed record Outcome(int Code, string Out, string Err, string Files);

    // The row in a fixture of its own; paths, durations and rates normalised so two runs compare equal.
    private static Outcome RunIsolated(VerbRow row)
    {
        using var fx = new VerbFixture();
        var (code, o, e) = FileErrorHarnessTests.Run(row, fx.Valid, fx.Dir);
        string Norm(string s) => Timing().Replace(s.Replace(fx.Dir, "FIXTURE"), "#");
        var files = new StringBuilder();
        foreach (var f in Directory.EnumerateFiles(fx.Dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var rel = Path.GetRelativePath(fx.Dir, f);
            var bytes = File.ReadAllBytes(f);
            bool text = Array.IndexOf(bytes, (byte)0) < 0;
            files.Append(rel).Append(' ').Append(text ? Norm(Encoding.UTF8.GetString(bytes)) : Convert.ToHexStringLower(SHA256.HashData(bytes))).Append('\n');
        }
        return new Outcome(code, Norm(o), Norm(e), files.ToString());
    }

    // Wall-clock figures differ between two runs of the same command.
    [GeneratedRegex(@"\d[\d,]*(\.\d+)?(E[-+]?\d+)?\s*(s|ms|MiB|records/s|tokens/s|GFLOP/s)\b|\b(forward|backward|optimizer) \d+\.\d+|""(elapsed_time|remaining_time|train_runtime|eval_runtime|train_samples_per_second|train_steps_per_second|eval_samples_per_second|eval_steps_per_second|seconds|peak_rss_mib|created|timestamp)"": *[^,}\n]+")]
    private static partial Regex Timing();

    /// <summary>Preprocessing flags reach the library through its binder: each help default is the binder's own default.</summary>
    [Theory]
    [InlineData("preprocess")]
    [InlineData("stats")]
    [InlineData("inspect-masking")]
    public void PreprocessFlagDefaultsAreTheBindersDefaults(string verb)
    {
        var command = Root.Subcommands.Single(c => c.Name == verb);
        var none = CanonicalJson.Serialize(PreprocessSettingsBinder.Bind(_ => null));
        int bound = 0;
        foreach (var o in command.Options.Where(o => o.Default is not null))
        {
            var key = o.Name.Replace('-', '_');
            if (!PreprocessSettingsBinder.Keys.Contains(key)) continue;
            bound++;
            Assert.True(none == CanonicalJson.Serialize(PreprocessSettingsBinder.Bind(k => k == key ? o.Default : null)), $"{verb} --{o.Name}: help default {o.Default} is not the binder's");
        }
        Assert.True(bound >= 5, $"{verb}: only {bound} binder options with defaults");
    }

    /// <summary>A default README.md states for an option of a verb: where, the option, the value as written.</summary>
    public sealed record DocumentedDefault(int Line, string[] Verbs, string Option, string Value, bool Prefix = false);

    /// <summary>
    /// README sections and the verbs whose options they document: a heading naming <c>sharptune VERB</c> is that verb;
    /// these headings document the listed verbs; a CLI table row starting <c>| `sharptune VERB</c> is that verb.
    /// </summary>
    private static readonly Dictionary<string, string[]> SectionVerbs = new()
    {
        ["## Tokenizer"] = ["tokenizer encode", "tokenizer decode", "tokenizer info", "tokenizer train"],
        ["## Chat templates"] = ["template render"],
        ["## Checkpoints and `init-model`"] = ["init-model"],
        ["### `convert llama2c`"] = ["convert llama2c"],
        ["## Training plots"] = ["plot"],
        ["## Reports"] = ["report"],
        ["## Training"] = ["train"],
        ["## Preprocessing SFT data"] = ["preprocess", "stats", "inspect-masking"],
        ["## Evaluation"] = ["eval", "baselines", "extract-answer"],
        ["## Inference"] = ["infer", "chat"],
    };

    /// <summary>Every (verb, option, default) README states, by the patterns it uses.</summary>
    public static IReadOnlyList<DocumentedDefault> ReadmeDefaults()
    {
        var lines = File.ReadAllLines(Path.Combine(TestEnvironment.RepoRoot, "README.md"));
        var verbPaths = LeafPaths(Root, "").ToList();
        var found = new List<DocumentedDefault>();
        string[] section = [];
        bool code = false, defaultColumn = false;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.StartsWith("```", StringComparison.Ordinal)) { code = !code; continue; }
            if (!code && line.StartsWith('#'))
            {
                var named = SharptuneVerb().Match(line) is { Success: true } m ? Longest(verbPaths, m.Groups[1].Value) : null;
                section = named is not null ? [named] : SectionVerbs.TryGetValue(line.Trim(), out var v) ? v : [];
                continue;
            }
            // Tables with a "default" column: | `--opt` | VALUE | meaning |
            if (line.StartsWith("| option | default |", StringComparison.Ordinal)) defaultColumn = true;
            else if (!line.StartsWith('|')) defaultColumn = false;
            string[] verbs = section;
            if (line.StartsWith("| `sharptune ", StringComparison.Ordinal) && Longest(verbPaths, line[13..]) is { } rowVerb) verbs = [rowVerb];
            if (verbs.Length == 0) continue;
            var patterns = code ? [UsageDefault()] : defaultColumn ? [ColumnDefault()] : new[] { ParenDefault(), BareDefault() };
            foreach (var p in patterns)
                foreach (Match m in p.Matches(line))
                {
                    var raw = m.Groups["val"].Value;
                    bool cut = raw.StartsWith('`') && (raw.Length == 1 || !raw.EndsWith('`'));
                    found.Add(new DocumentedDefault(i + 1, verbs, m.Groups["opt"].Value, raw.Trim('`').Replace("\\|", "|"), cut));
                }
        }
        return found;
    }

    [Fact]
    public void ReadmeDefaultsEqualTheOptionSpecs()
    {
        var documented = ReadmeDefaults();
        var problems = new List<string>();
        int compared = 0;
        foreach (var d in documented)
        {
            var specs = d.Verbs.Select(v => (Verb: v, Spec: Leaf(v).Options.FirstOrDefault(o => o.Name == d.Option))).Where(x => x.Spec is not null).ToList();
            if (specs.Count == 0) continue; // an option of another verb mentioned in passing
            foreach (var (verb, spec) in specs)
            {
                compared++;
                if (spec!.IsFlag || d.Value is "none" or "off" or "")
                {
                    // A flag is off unless given; "none" is no value.
                    if (spec.Default is not null && !spec.IsFlag) problems.Add($"README.md:{d.Line}: {verb} --{d.Option}: README says {d.Value}, --help says {spec.Default}");
                }
                else if (spec.Default is null)
                {
                    // A default README gives as a plain value must be the spec's; a described one ("the run's") is the code's to compute.
                    if (PlainValue().IsMatch(d.Value)) problems.Add($"README.md:{d.Line}: {verb} --{d.Option}: README says {d.Value}, --help states no default");
                }
                else if (d.Prefix ? !spec.Default.StartsWith(d.Value, StringComparison.Ordinal) : !SameValue(spec.Default, d.Value))
                    problems.Add($"README.md:{d.Line}: {verb} --{d.Option}: README says {d.Value}, --help says {spec.Default}");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.True(compared >= 20, $"only {compared} README defaults matched an option; the README patterns no longer match");
    }

    private static bool SameValue(string spec, string readme) =>
        spec == readme || (double.TryParse(spec, System.Globalization.CultureInfo.InvariantCulture, out var a)
                           && double.TryParse(readme, System.Globalization.CultureInfo.InvariantCulture, out var b) && a == b);

    private static CliCommand Leaf(string path)
    {
        var c = Root;
        foreach (var w in path.Split(' ')) c = c.Subcommands.Single(s => s.Name == w);
        return c;
    }

    private static IEnumerable<string> LeafPaths(CliCommand c, string prefix)
    {
        foreach (var s in c.Subcommands)
        {
            var path = prefix.Length == 0 ? s.Name : prefix + " " + s.Name;
            if (s.Subcommands.Count == 0) yield return path;
            else foreach (var p in LeafPaths(s, path)) yield return p;
        }
    }

    // The longest verb path that the text starts with ("prepare movielens --ratings" → "prepare movielens").
    private static string? Longest(IEnumerable<string> paths, string text) =>
        paths.Where(p => text.StartsWith(p + " ", StringComparison.Ordinal) || text.StartsWith(p + "`", StringComparison.Ordinal) || text == p)
            .OrderByDescending(p => p.Length).FirstOrDefault();

    [GeneratedRegex(@"`sharptune ([a-z0-9 -]+)")]
    private static partial Regex SharptuneVerb();

    // `--opt ...` … (default X) / (default `X`) / (default: X), within one cell or clause (no other `--, no |).
    // A backticked value the line break cuts (`I can't … ) is compared as a prefix.
    [GeneratedRegex(@"`--(?<opt>[a-z0-9-]+)[^`]*`(?:(?!`--)[^|(])*?\(default:? (?<val>`[^`]+`|`[^`]*$|[^),;]+)")]
    private static partial Regex ParenDefault();

    // `--opt N` (64): a bare value in parentheses right after the option.
    [GeneratedRegex(@"`--(?<opt>[a-z0-9-]+) [^`]+`\s*\((?<val>[0-9][0-9.e-]*|`[^`]+`)\)")]
    private static partial Regex BareDefault();

    // A table row under "| option | default |".
    [GeneratedRegex(@"^\| `--(?<opt>[a-z0-9-]+)[^`]*` \| (?<val>[^|]*?) \|")]
    private static partial Regex ColumnDefault();

    // A usage block's [--opt 15]: a number shown as the option's value.
    [GeneratedRegex(@"\[--(?<opt>[a-z0-9-]+) (?<val>[0-9][0-9.]*)\]")]
    private static partial Regex UsageDefault();

    // A value, not a description: no spaces, and no placeholder such as OUT or RUN (an all-capitals word).
    [GeneratedRegex(@"^(?![^ ]*\b[A-Z]{2,}\b)[A-Za-z0-9._<>|/-]+$")]
    private static partial Regex PlainValue();
}
