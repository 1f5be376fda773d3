using System.Text.RegularExpressions;
using SharpTune.IO;

namespace SharpTune.Training.Loop;

/// <summary>
/// The <c>checkpoint-N</c> folders of an output directory (transformers' <c>PREFIX_CHECKPOINT_DIR</c>): finding the
/// newest complete one, writing one atomically (a temporary sibling renamed when complete; a folder of the same name
/// from an earlier run is replaced only after the new one is complete), and transformers' <c>_rotate_checkpoints</c>.
/// </summary>
public static partial class CheckpointFolders
{
    /// <summary>The folder name prefix.</summary>
    public const string Prefix = "checkpoint";

    [GeneratedRegex(@"^checkpoint-([0-9]+)$")]
    private static partial Regex NamePattern();

    /// <summary>The folder of the checkpoint at update <paramref name="step"/>.</summary>
    public static string PathOf(string outputDir, long step) => Path.Combine(outputDir, $"{Prefix}-{step}");

    /// <summary>The step of a checkpoint folder name, or null when the name is not <c>checkpoint-N</c>.</summary>
    public static long? StepOf(string folder) =>
        NamePattern().Match(Path.GetFileName(folder.TrimEnd('/', Path.DirectorySeparatorChar))) is { Success: true } m && long.TryParse(m.Groups[1].Value, out var s) ? s : null;

    /// <summary>The complete checkpoint folders (holding <see cref="TrainerStateFile.FileName"/>), by step ascending.</summary>
    public static IReadOnlyList<(long Step, string Path)> List(string outputDir)
    {
        if (!Directory.Exists(outputDir)) return [];
        return Directory.EnumerateDirectories(outputDir)
            .Select(d => (Step: StepOf(d), Path: d))
            .Where(x => x.Step is not null && File.Exists(Path.Combine(x.Path, TrainerStateFile.FileName)))
            .Select(x => (x.Step!.Value, x.Path))
            .OrderBy(x => x.Item1)
            .ToList();
    }

    /// <summary>transformers' <c>get_last_checkpoint</c>: the complete checkpoint with the highest step, or null.</summary>
    public static string? Latest(string outputDir) => List(outputDir) is { Count: > 0 } l ? l[^1].Path : null;

    /// <summary>
    /// Removes what a killed run left in <paramref name="outputDir"/>: every temporary (<c>.NAME.tmp-PID-…</c>, a
    /// checkpoint, the final adapter's staging folder, a results file) of a process that no longer runs. Returns the
    /// paths removed (each is also reported through <see cref="TemporaryOutputs.StaleRemoved"/>).
    /// </summary>
    public static IReadOnlyList<string> RemoveStale(string outputDir) => TemporaryOutputs.RemoveStaleIn(outputDir);

    /// <summary>
    /// transformers' <c>_rotate_checkpoints</c> (ordered by step): with more than <paramref name="limit"/> checkpoints,
    /// the oldest are deleted; the best one (<paramref name="best"/>) is first moved towards the newest end — swapped
    /// forward up to the second-newest place — so it survives; with a limit of 1 and a best that is not the newest,
    /// 2 are kept so the newest stays resumable. Returns the deleted folders.
    /// </summary>
    public static IReadOnlyList<string> Rotate(string outputDir, int? limit, string? best)
    {
        if (limit is not int k || k <= 0) return [];
        var sorted = List(outputDir).Select(x => x.Path).ToList();
        if (sorted.Count <= k) return [];
        int bestIndex = best is null ? -1 : sorted.FindIndex(p => SameFolder(p, best));
        if (bestIndex >= 0)
            for (int i = bestIndex; i < sorted.Count - 2; i++) (sorted[i], sorted[i + 1]) = (sorted[i + 1], sorted[i]);
        if (best is not null && k == 1 && !SameFolder(sorted[^1], best)) k = 2;
        var deleted = sorted.Take(Math.Max(0, sorted.Count - k)).ToList();
        foreach (var d in deleted) Directory.Delete(d, recursive: true);
        return deleted;
    }

    /// <summary>Whether two paths name the same folder.</summary>
    public static bool SameFolder(string a, string b) =>
        string.Equals(Path.GetFullPath(a.TrimEnd('/', Path.DirectorySeparatorChar)), Path.GetFullPath(b.TrimEnd('/', Path.DirectorySeparatorChar)), StringComparison.Ordinal);
}
