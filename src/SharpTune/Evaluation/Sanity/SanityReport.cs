using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpTune.IO;

namespace SharpTune.Evaluation.Sanity;

/// <summary>
/// The scores of every checkpoint: the checkpoints × groups table, the best checkpoint, and the files
/// <c>sanity.jsonl</c> (one line per reply with its failing checks), <c>sanity_summary.json</c> and
/// <c>best_checkpoint.txt</c>.
/// </summary>
public sealed class SanityReport(SanityRules rules, IReadOnlyList<SanityCheckpointScore> scores)
{
    /// <summary>Exit code when the best total is below <c>--min-score</c>.</summary>
    public const int BelowMinScore = 3;

    /// <summary>File names written by <see cref="Write"/>.</summary>
    public const string RepliesFile = "sanity.jsonl", SummaryFile = "sanity_summary.json", BestFile = "best_checkpoint.txt";

    // Totals are sums of a few weighted fractions: equal scores may differ in the last bits.
    private const double TotalTolerance = 1e-9;

    /// <summary>The rules.</summary>
    public SanityRules Rules { get; } = rules;

    /// <summary>Per checkpoint, in the order scored.</summary>
    public IReadOnlyList<SanityCheckpointScore> Scores { get; } = scores;

    /// <summary>
    /// The best checkpoint: the highest total; on a tie the lower eval loss (a known loss beats none), then the
    /// earlier step (a known step beats none), then the one listed first.
    /// </summary>
    public SanityCheckpointScore Best
    {
        get
        {
            var best = Scores[0];
            foreach (var s in Scores.Skip(1))
                if (Better(s, best)) best = s;
            return best;
        }
    }

    private static bool Better(SanityCheckpointScore a, SanityCheckpointScore b)
    {
        if (Math.Abs(a.Total - b.Total) > TotalTolerance) return a.Total > b.Total;
        var (la, lb) = (a.Checkpoint.EvalLoss, b.Checkpoint.EvalLoss);
        if (la != lb)
        {
            if (la is null) return false;
            if (lb is null) return true;
            return la < lb;
        }
        var (sa, sb) = (a.Checkpoint.Step, b.Checkpoint.Step);
        if (sa != sb)
        {
            if (sa is null) return false;
            if (sb is null) return true;
            return sa < sb;
        }
        return false;
    }

    /// <summary>0 when the best total reaches <paramref name="minScore"/>, else <see cref="BelowMinScore"/>.</summary>
    public int ExitCode(double minScore) => Best.Total + TotalTolerance >= minScore ? 0 : BelowMinScore;

    /// <summary>The table: one row per checkpoint, pass rate per group (weight in the header), weighted total; the best marked with *.</summary>
    public string ToTable()
    {
        var header = new List<string> { "checkpoint", "step", "eval_loss" };
        header.AddRange(Rules.Groups.Select(g => g.Weight == 1 ? g.Name : string.Create(CultureInfo.InvariantCulture, $"{g.Name} (×{g.Weight:0.###})")));
        header.Add("total");
        var best = Best;
        var rows = Scores.Select(s =>
        {
            var row = new List<string>
            {
                (ReferenceEquals(s, best) ? "* " : "  ") + s.Checkpoint.Name,
                s.Checkpoint.Step?.ToString(CultureInfo.InvariantCulture) ?? "-",
                s.Checkpoint.EvalLoss?.ToString("0.0000", CultureInfo.InvariantCulture) ?? "-",
            };
            row.AddRange(s.GroupPassRates.Select(Percent));
            row.Add(Percent(s.Total));
            return row;
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        void Line(IReadOnlyList<string> cells)
        {
            for (int i = 0; i < cells.Count; i++)
            {
                if (i > 0) sb.Append("  ");
                sb.Append(i == 0 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
            }
            sb.Append('\n');
        }
        Line(header.Select((h, i) => i == 0 ? "  " + h : h).ToArray());
        foreach (var r in rows) Line(r);
        sb.Append(CultureInfo.InvariantCulture, $"best: {best.Checkpoint.Name} ({best.Checkpoint.Path}), total {Percent(best.Total)}\n");
        return sb.ToString();
    }

    private static string Percent(double f) => (f * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>The summary as JSON: groups with weights, per checkpoint the pass rates and total, and the best.</summary>
    public string ToJson()
    {
        var best = Best;
        var summary = new Dictionary<string, object?>
        {
            ["rules"] = Rules.Source,
            ["groups"] = Rules.Groups.Select(g => new Dictionary<string, object?> { ["name"] = g.Name, ["weight"] = g.Weight, ["prompts"] = g.Prompts.Count }).ToArray(),
            ["checkpoints"] = Scores.Select(s => new Dictionary<string, object?>
            {
                ["name"] = s.Checkpoint.Name,
                ["path"] = s.Checkpoint.Path,
                ["kind"] = s.Checkpoint.Kind.ToString().ToLowerInvariant(),
                ["step"] = s.Checkpoint.Step,
                ["eval_loss"] = s.Checkpoint.EvalLoss,
                ["pass_rates"] = Rules.Groups.Select((g, i) => (g.Name, Rate: s.GroupPassRates[i])).ToDictionary(x => x.Name, x => x.Rate),
                ["total"] = s.Total,
            }).ToArray(),
            ["best"] = new Dictionary<string, object?> { ["name"] = best.Checkpoint.Name, ["path"] = best.Checkpoint.Path, ["total"] = best.Total },
        };
        return JsonSerializer.Serialize(summary, Json) + "\n";
    }

    /// <summary>Writes <c>sanity.jsonl</c>, <c>sanity_summary.json</c> and, last, <c>best_checkpoint.txt</c> (the best checkpoint's path) into <paramref name="dir"/>, each atomically.</summary>
    public void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.WriteText(Path.Combine(dir, RepliesFile), w =>
        {
            foreach (var s in Scores)
                foreach (var r in s.Replies)
                    w.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                    {
                        ["checkpoint"] = s.Checkpoint.Name,
                        ["step"] = s.Checkpoint.Step,
                        ["group"] = r.Prompt.Group,
                        ["prompt_index"] = r.Prompt.Index,
                        ["system"] = r.Prompt.System,
                        ["prompt"] = r.Prompt.Text,
                        ["reply"] = r.Reply,
                        ["passed"] = r.Passed,
                        ["failed_checks"] = r.FailedChecks,
                    }, JsonLine));
        });
        AtomicFile.WriteText(Path.Combine(dir, SummaryFile), w => w.Write(ToJson()));
        AtomicFile.WriteText(Path.Combine(dir, BestFile), w => w.WriteLine(Best.Checkpoint.Path));
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions JsonLine = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
