using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SharpTune.Evaluation.Sanity;

/// <summary>What a checkpoint folder holds.</summary>
public enum SanityCheckpointKind
{
    /// <summary>A PEFT adapter (<c>adapter_config.json</c>), applied over the base model.</summary>
    Adapter,

    /// <summary>A full model folder (<c>config.json</c> + safetensors weights).</summary>
    Model,
}

/// <summary>
/// One checkpoint to score: its folder, what it holds, its training step and its evaluation loss when the run
/// recorded one. Steps and losses come from the folder's <c>trainer_state.json</c> (<c>global_step</c>, and
/// <c>eval_loss</c> at the top level or the last <c>log_history</c> entry at or before the step, as transformers
/// writes it); a folder named <c>checkpoint-N</c> without a step in its state has step N.
/// </summary>
/// <param name="Name">Shown in the table: the folder name (<c>final</c> for a run's own folder).</param>
/// <param name="Path">The folder.</param>
/// <param name="Kind">Adapter or full model.</param>
/// <param name="Step">Training step, or null when unknown.</param>
/// <param name="EvalLoss">Evaluation loss, or null when none was recorded.</param>
public sealed record SanityCheckpoint(string Name, string Path, SanityCheckpointKind Kind, long? Step, double? EvalLoss)
{
    private static readonly Regex CheckpointName = new(@"^checkpoint-(\d+)$", RegexOptions.CultureInvariant);

    /// <summary>The folders given with <c>--checkpoints</c>, in order; each must be a model or an adapter folder.</summary>
    public static IReadOnlyList<SanityCheckpoint> FromFolders(IEnumerable<string> folders)
    {
        var list = folders.Select(f => Open(f, null)).ToList();
        if (list.Count == 0) throw new UserException("no checkpoints given");
        return list;
    }

    /// <summary>
    /// The checkpoints of a run folder: every <c>checkpoint-N</c> subfolder by step, then the run folder itself
    /// (the final model, named <c>final</c>) when it holds a model or an adapter.
    /// </summary>
    public static IReadOnlyList<SanityCheckpoint> FromRun(string runDir)
    {
        if (!Directory.Exists(runDir)) throw new UserException($"{runDir}: run folder not found");
        var list = Directory.EnumerateDirectories(runDir)
            .Select(d => (Dir: d, Match: CheckpointName.Match(System.IO.Path.GetFileName(d))))
            .Where(x => x.Match.Success)
            .OrderBy(x => long.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture))
            .Select(x => Open(x.Dir, null))
            .ToList();
        if (KindOf(runDir) is not null) list.Add(Open(runDir, "final"));
        if (list.Count == 0)
            throw new UserException($"{runDir}: no checkpoint-N folders and no final model or adapter in the run folder");
        return list;
    }

    /// <summary>Opens one folder; an error when it is neither a model nor an adapter.</summary>
    public static SanityCheckpoint Open(string dir, string? name)
    {
        if (!Directory.Exists(dir)) throw new UserException($"{dir}: checkpoint folder not found");
        var kind = KindOf(dir) ?? throw new UserException(
            $"{dir}: not a model folder (config.json + model.safetensors) or an adapter folder (adapter_config.json + adapter_model.safetensors)");
        var folderName = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(dir)));
        var (step, evalLoss) = ReadState(dir);
        if (step is null && CheckpointName.Match(folderName) is { Success: true } m) step = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return new SanityCheckpoint(name ?? folderName, dir, kind, step, evalLoss);
    }

    private static SanityCheckpointKind? KindOf(string dir)
    {
        bool Has(string f) => File.Exists(System.IO.Path.Combine(dir, f));
        if (Has("adapter_config.json") && (Has("adapter_model.safetensors") || Has("adapter_model.bin"))) return SanityCheckpointKind.Adapter;
        if (Has("config.json") && (Has("model.safetensors") || Has("model.safetensors.index.json"))) return SanityCheckpointKind.Model;
        return null;
    }

    private static (long? Step, double? EvalLoss) ReadState(string dir)
    {
        var path = System.IO.Path.Combine(dir, "trainer_state.json");
        if (!File.Exists(path)) return (null, null);
        JsonElement root;
        try { root = JsonDocument.Parse(File.ReadAllBytes(path)).RootElement; }
        catch (JsonException e) { throw new UserException($"{path}: not valid JSON ({e.Message})"); }
        if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{path}: expected a JSON object");
        long? step = root.TryGetProperty("global_step", out var s) && s.TryGetInt64(out var sv) ? sv : null;
        double? loss = root.TryGetProperty("eval_loss", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetDouble() : null;
        if (loss is null && root.TryGetProperty("log_history", out var history) && history.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in history.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("eval_loss", out var el) || el.ValueKind != JsonValueKind.Number) continue;
                long? at = entry.TryGetProperty("step", out var es) && es.TryGetInt64(out var esv) ? esv : null;
                if (step is null || at is null || at <= step) loss = el.GetDouble();
            }
        }
        return (step, loss);
    }
}
