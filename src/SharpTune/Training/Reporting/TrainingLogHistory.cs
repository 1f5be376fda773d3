using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using SharpTune.IO;

namespace SharpTune.Training.Reporting;

/// <summary>One entry of a run's log: the step it belongs to and its numeric fields (strings and objects are left out).</summary>
/// <param name="Step">The optimizer step.</param>
/// <param name="Values">Metric name → value, under the names of <c>trainer_state.json</c> (see <see cref="LogKeys"/>).</param>
public sealed record LogRecord(long Step, IReadOnlyDictionary<string, double> Values);

/// <summary>The values one metric took over the steps, in log order.</summary>
/// <param name="Key">The metric name the values were found under.</param>
/// <param name="Steps">The step of each value.</param>
/// <param name="Values">The values (finite ones only).</param>
/// <param name="NonFiniteLeftOut">Entries whose value was NaN or infinite, left out of <paramref name="Values"/>.</param>
public sealed record MetricSeries(string Key, double[] Steps, double[] Values, int NonFiniteLeftOut);

/// <summary>
/// The logged history of a training run, read from its output folder: transformers' <c>trainer_state.json</c>
/// (<c>log_history</c>) or LLaMA-Factory's <c>trainer_log.jsonl</c>, plus the steps of the checkpoints on disk.
/// </summary>
public sealed partial class TrainingLogHistory
{
    /// <summary>transformers' state file name.</summary>
    public const string TrainerStateFile = "trainer_state.json";

    /// <summary>LLaMA-Factory's per-log-step file name.</summary>
    public const string TrainerLogFile = "trainer_log.jsonl";

    /// <summary>Creates a history from records (e.g. held in memory by the loop).</summary>
    public TrainingLogHistory(string sourcePath, IReadOnlyList<LogRecord> records)
    {
        SourcePath = sourcePath;
        Records = records;
    }

    /// <summary>The file the history was read from.</summary>
    public string SourcePath { get; }

    /// <summary>The entries in log order.</summary>
    public IReadOnlyList<LogRecord> Records { get; }

    /// <summary>Steps of the <c>checkpoint-N</c> folders in the run folder, ascending.</summary>
    public IReadOnlyList<long> CheckpointSteps { get; init; } = [];

    /// <summary>The step of <c>best_model_checkpoint</c>, when the state names one.</summary>
    public long? BestCheckpointStep { get; init; }

    /// <summary>Entries of <c>trainer_log.jsonl</c> dropped because a resumed run logged their steps again.</summary>
    public int EntriesReplacedByResume { get; init; }

    /// <summary>An unfinished last line of <c>trainer_log.jsonl</c> (a run killed while appending), left out: 0 or 1.</summary>
    public int TruncatedLinesLeftOut { get; init; }

    /// <summary>
    /// The series of <paramref name="key"/>: every entry holding it (as LLaMA-Factory's <c>plot_loss</c> selects), with
    /// the other names of the metric in <see cref="LogKeys.Aliases"/> accepted per entry. Null when no entry has it.
    /// </summary>
    public MetricSeries? Series(string key)
    {
        var names = LogKeys.Aliases.TryGetValue(key, out var a) ? a : [key];
        var steps = new List<double>();
        var values = new List<double>();
        int nonFinite = 0;
        string? found = null;
        foreach (var r in Records)
        {
            foreach (var name in names)
            {
                if (!r.Values.TryGetValue(name, out var v)) continue;
                found ??= name;
                if (double.IsFinite(v)) { steps.Add(r.Step); values.Add(v); }
                else nonFinite++;
                break;
            }
        }
        return found is null ? null : new MetricSeries(found, [.. steps], [.. values], nonFinite);
    }

    /// <summary>
    /// Reads a run folder: its <c>trainer_state.json</c> when present (written at the end of a run), else its
    /// <c>trainer_log.jsonl</c> (written while it runs), else the newest checkpoint's <c>trainer_state.json</c>.
    /// </summary>
    /// <exception cref="UserException">The folder is missing, holds none of these files, or a file is malformed.</exception>
    public static TrainingLogHistory ReadRunFolder(string runDir)
    {
        if (!Directory.Exists(runDir)) throw new UserException($"{runDir}: no such folder");
        var checkpoints = CheckpointFolders(runDir);
        string state = Path.Combine(runDir, TrainerStateFile), log = Path.Combine(runDir, TrainerLogFile);
        TrainingLogHistory h;
        if (File.Exists(state)) h = ReadTrainerState(state);
        else if (File.Exists(log)) h = ReadTrainerLog(log);
        else if (checkpoints.Count > 0 && File.Exists(Path.Combine(checkpoints[^1].Path, TrainerStateFile)))
            h = ReadTrainerState(Path.Combine(checkpoints[^1].Path, TrainerStateFile));
        else throw new UserException($"{runDir}: no {TrainerStateFile} or {TrainerLogFile} (is this a train output folder?)");
        return new TrainingLogHistory(h.SourcePath, h.Records)
        {
            CheckpointSteps = [.. checkpoints.Select(c => c.Step)],
            BestCheckpointStep = h.BestCheckpointStep,
            EntriesReplacedByResume = h.EntriesReplacedByResume,
            TruncatedLinesLeftOut = h.TruncatedLinesLeftOut,
        };
    }

    /// <summary>Reads transformers' <c>trainer_state.json</c>: its <c>log_history</c> and <c>best_model_checkpoint</c>.</summary>
    public static TrainingLogHistory ReadTrainerState(string path)
    {
        using var doc = ParseJson(ReadText(path), path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{path}: expected a JSON object (transformers' trainer state)");
        if (!root.TryGetProperty("log_history", out var history) || history.ValueKind != JsonValueKind.Array)
            throw new UserException($"{path}: field 'log_history' must be a list of log entries");
        var records = new List<LogRecord>();
        int i = 0;
        foreach (var entry in history.EnumerateArray())
        {
            records.Add(ToRecord(entry, $"{path}: log_history[{i}]", LogKeys.Step));
            i++;
        }
        long? best = null;
        if (root.TryGetProperty("best_model_checkpoint", out var b) && b.ValueKind == JsonValueKind.String
            && CheckpointName().Match(Path.GetFileName(b.GetString()!.TrimEnd('/', '\\'))) is { Success: true } m)
            best = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return new TrainingLogHistory(path, records) { BestCheckpointStep = best };
    }

    /// <summary>
    /// Reads LLaMA-Factory's <c>trainer_log.jsonl</c> (one JSON object a line; <c>current_steps</c> and <c>lr</c> are
    /// read as <c>step</c> and <c>learning_rate</c>). When a resumed run logs a step again, the earlier entries from that
    /// step on are replaced; an unfinished last line (no newline: a run killed while appending) is left out and counted.
    /// </summary>
    public static TrainingLogHistory ReadTrainerLog(string path)
    {
        var text = ReadText(path);
        var lines = text.Split('\n');
        var records = new List<LogRecord>();
        int replaced = 0, truncated = 0;
        long maxStep = long.MinValue;
        for (int n = 0; n < lines.Length; n++)
        {
            var line = lines[n].TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            bool last = n == lines.Length - 1; // no newline after it
            JsonDocument doc;
            try { doc = JsonDocument.Parse(PythonJsonNumbers.QuoteNonFinite(line)); }
            catch (JsonException) when (last)
            {
                truncated++;
                continue;
            }
            catch (JsonException e) { throw new UserException($"{path}:{n + 1}: not valid JSON: {JsonMessage(e)}"); }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new UserException($"{path}:{n + 1}: expected a JSON object");
                var r = ToRecord(doc.RootElement, $"{path}:{n + 1}", LogKeys.CurrentSteps);
                // A resumed run logs the steps after its checkpoint again: the later entries replace the earlier ones.
                if (r.Step < maxStep || records.Any(x => x.Step == r.Step && SameKind(x, r)))
                {
                    int before = records.Count;
                    records.RemoveAll(x => x.Step >= r.Step);
                    replaced += before - records.Count;
                    maxStep = records.Count == 0 ? long.MinValue : records.Max(x => x.Step);
                }
                records.Add(r);
                maxStep = Math.Max(maxStep, r.Step);
            }
        }
        return new TrainingLogHistory(path, records) { EntriesReplacedByResume = replaced, TruncatedLinesLeftOut = truncated };
    }

    // Train and eval entries of one step share LLaMA-Factory's bookkeeping fields; their metric tells them apart.
    private static bool SameKind(LogRecord a, LogRecord b) =>
        (a.Values.ContainsKey(LogKeys.Loss) && b.Values.ContainsKey(LogKeys.Loss))
        || (a.Values.ContainsKey(LogKeys.EvalLoss) && b.Values.ContainsKey(LogKeys.EvalLoss));

    private static LogRecord ToRecord(JsonElement entry, string where, string stepKey)
    {
        if (entry.ValueKind != JsonValueKind.Object) throw new UserException($"{where}: expected a JSON object");
        if (!entry.TryGetProperty(stepKey, out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out long step) || step < 0)
            throw new UserException($"{where}: field '{stepKey}' must be a step number (an integer ≥ 0)");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var p in entry.EnumerateObject())
        {
            if (p.Name == stepKey || !PythonJsonNumbers.TryGetDouble(p.Value, out var v)) continue;
            string name = stepKey == LogKeys.CurrentSteps && p.Name == LogKeys.Lr ? LogKeys.LearningRate : p.Name;
            values[name] = v;
        }
        return new LogRecord(step, values);
    }

    private static List<(long Step, string Path)> CheckpointFolders(string runDir)
    {
        var list = new List<(long, string)>();
        foreach (var d in Directory.EnumerateDirectories(runDir))
            if (CheckpointName().Match(Path.GetFileName(d)) is { Success: true } m
                && long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long step))
                list.Add((step, d));
        list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return list;
    }

    private static string ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserException($"{path}: cannot read: {e.Message}", e); }
    }

    private static JsonDocument ParseJson(string text, string path)
    {
        try { return JsonDocument.Parse(PythonJsonNumbers.QuoteNonFinite(text)); }
        catch (JsonException e) { throw new UserException($"{path}:{(e.LineNumber ?? 0) + 1}: not valid JSON: {JsonMessage(e)}"); }
    }

    // System.Text.Json appends "LineNumber: n | BytePositionInLine: m." to its messages; the line is already in the prefix.
    private static string JsonMessage(JsonException e)
    {
        var msg = e.Message;
        int cut = msg.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut >= 0 ? msg[..cut] : msg).Trim();
    }

    [GeneratedRegex(@"^checkpoint-(\d+)$")]
    private static partial Regex CheckpointName();
}
