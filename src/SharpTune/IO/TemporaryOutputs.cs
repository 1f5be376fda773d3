using System.Globalization;

namespace SharpTune.IO;

/// <summary>
/// The process-wide registry of outputs being written under temporary names (<see cref="AtomicFile"/>,
/// <see cref="AtomicDirectory"/> and the writers that rename several files at once). It is the one place that knows
/// what an interrupted run must remove: the CLI's SIGINT/SIGTERM handler calls <see cref="AbandonAll"/>, which deletes
/// every registered temporary and makes any later <see cref="Commit(string, string, Action)"/> wait for the process to end, so no final name
/// ever appears after the interrupt and no temporary stays behind. Temporaries a hard kill (SIGKILL, power loss) left
/// are named <c>.NAME.tmp-PID-GUID</c>; the next <see cref="Begin"/> for the same final name removes those whose
/// process is gone and reports each through <see cref="StaleRemoved"/>.
/// </summary>
public static class TemporaryOutputs
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<string> Live = new(StringComparer.Ordinal);
    private static readonly List<string> Committed = [];
    private static readonly HashSet<string> Resumables = new(StringComparer.Ordinal);
    private static bool _abandoned;

    // Test hook (docs/cli.md, interruption harness): a pause before each commit, so that a signal reliably arrives while
    // temporaries exist, whatever the machine's speed. Unset in normal use.
    private static readonly int CommitDelayMs =
        int.TryParse(Environment.GetEnvironmentVariable("SHARPTUNE_TEST_COMMIT_DELAY_MS"), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? ms : 0;

    /// <summary>Called with the path of each stale temporary removed (left by a run that was killed).</summary>
    public static Action<string>? StaleRemoved { get; set; }

    /// <summary>True once <see cref="AbandonAll"/> ran: the process is being interrupted.</summary>
    public static bool Interrupted
    {
        get { lock (Gate) return _abandoned; }
    }

    /// <summary>The prefix every temporary of <paramref name="finalPath"/> starts with: <c>.NAME.tmp-</c>.</summary>
    public static string PrefixFor(string finalPath) =>
        "." + Path.GetFileName(Path.GetFullPath(finalPath).TrimEnd('/', Path.DirectorySeparatorChar)) + ".tmp-";

    /// <summary>
    /// Names a new temporary beside <paramref name="finalPath"/> (its folder must exist), registers it for removal on
    /// interrupt, and first removes stale temporaries of the same final name left by processes that no longer run.
    /// Nothing is created on disk: the caller creates the file or folder at the returned path.
    /// </summary>
    public static string Begin(string finalPath)
    {
        var full = Path.GetFullPath(finalPath).TrimEnd('/', Path.DirectorySeparatorChar);
        var dir = Path.GetDirectoryName(full)!;
        var prefix = PrefixFor(full);
        RemoveStale(dir, prefix);
        var tmp = Path.Combine(dir, prefix + $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        lock (Gate)
        {
            if (_abandoned) WaitForExit();
            Live.Add(tmp);
        }
        return tmp;
    }

    /// <summary>
    /// Runs <paramref name="rename"/> (which moves the temporaries to their final names) unless the process is being
    /// interrupted, in which case it never returns (the interrupt handler is ending the process and has removed the
    /// temporaries). The renames and the interrupt's removal exclude each other, so an output is either final and
    /// complete or gone.
    /// </summary>
    public static void Commit(IReadOnlyList<string> temporaries, IReadOnlyList<string> finals, Action rename)
    {
        if (CommitDelayMs > 0) Thread.Sleep(CommitDelayMs);
        lock (Gate)
        {
            if (_abandoned) WaitForExit();
            rename();
            foreach (var t in temporaries) Live.Remove(t);
            Committed.AddRange(finals.Select(f => Path.GetFullPath(f)));
        }
    }

    /// <summary><see cref="Commit(IReadOnlyList{string}, IReadOnlyList{string}, Action)"/> for one output.</summary>
    public static void Commit(string temporary, string final, Action rename) => Commit([temporary], [final], rename);

    /// <summary>
    /// Registers a partial output that an interrupt keeps on purpose, because rerunning the same command resumes
    /// from it (infer's <c>OUTPUT.partial</c>): <see cref="AbandonAll"/> lists it as kept, marked resumable.
    /// </summary>
    public static void KeepResumable(string path)
    {
        lock (Gate) Resumables.Add(Path.GetFullPath(path));
    }

    /// <summary>Forgets a path of <see cref="KeepResumable"/> (it became the final output, or was removed).</summary>
    public static void ForgetResumable(string path)
    {
        lock (Gate) Resumables.Remove(Path.GetFullPath(path));
    }

    /// <summary>Deletes a temporary (file or folder) after a failure and forgets it.</summary>
    public static void Discard(string temporary)
    {
        Delete(temporary);
        lock (Gate) Live.Remove(temporary);
    }

    /// <summary>
    /// Marks the process as interrupted, deletes every registered temporary and returns what was removed and which
    /// outputs this process had completed (kept). Later <see cref="Begin"/>/<see cref="Commit(string, string, Action)"/> calls block forever:
    /// call this only when the process is about to exit.
    /// </summary>
    public static (IReadOnlyList<string> Removed, IReadOnlyList<string> Kept) AbandonAll()
    {
        lock (Gate)
        {
            _abandoned = true;
            var removed = Live.Where(p => File.Exists(p) || Directory.Exists(p)).ToList();
            var paths = Live.ToList();
            // A writer thread still running may recreate a temporary folder or add a file to it between the delete and
            // the process's exit: sweep until two sweeps in a row find nothing (bounded, the process exits next).
            int clean = 0;
            for (int sweep = 0; sweep < 50 && clean < 2; sweep++)
            {
                bool any = false;
                foreach (var p in paths)
                    if (File.Exists(p) || Directory.Exists(p)) { any = true; Delete(p); }
                clean = any ? 0 : clean + 1;
                Thread.Sleep(10);
            }
            Live.Clear();
            var kept = Committed.ToList();
            kept.AddRange(Resumables.Where(File.Exists).Select(p => $"{p} (partial; rerun the same command to resume)"));
            return (removed, kept);
        }
    }

    private static void WaitForExit()
    {
        // The interrupt handler owns the process's end; this thread must neither write nor rename anything more.
        Thread.Sleep(Timeout.Infinite);
    }

    /// <summary>
    /// Removes every temporary in <paramref name="dir"/> (<c>.NAME.tmp-PID-…</c>, whatever NAME) left by a process that
    /// no longer runs — for writers whose next output has another name than the one a killed run was writing (a
    /// training run's next checkpoint-N). Each removal is reported through <see cref="StaleRemoved"/>; returns them.
    /// </summary>
    public static IReadOnlyList<string> RemoveStaleIn(string dir) => RemoveStale(dir, null);

    // prefix null: any ".NAME.tmp-" name.
    private static List<string> RemoveStale(string dir, string? prefix)
    {
        var removed = new List<string>();
        if (!Directory.Exists(dir)) return removed;
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { AttributesToSkip = 0 }).ToList())
        {
            var name = Path.GetFileName(entry);
            int start;
            if (prefix is not null)
            {
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                start = prefix.Length;
            }
            else
            {
                int marker = name.LastIndexOf(".tmp-", StringComparison.Ordinal);
                if (name[0] != '.' || marker <= 0) continue;
                start = marker + ".tmp-".Length;
            }
            var rest = name[start..];
            var dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (pid == Environment.ProcessId || ProcessIsAlive(pid)) continue;
            Delete(entry);
            if (File.Exists(entry) || Directory.Exists(entry)) continue;
            removed.Add(entry);
            StaleRemoved?.Invoke(entry);
        }
        return removed;
    }

    private static bool ProcessIsAlive(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static void Delete(string path)
    {
        // A writer thread may still be adding files to a temporary folder: retry a few times.
        for (int attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                if (File.Exists(path)) File.Delete(path);
                else if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                return;
            }
            catch (IOException) { Thread.Sleep(5); }
            catch (UnauthorizedAccessException) { return; }
        }
    }
}
