namespace SharpTune.IO;

/// <summary>
/// Creates a folder so that it never exists half-filled: the content is written into a hidden temporary sibling,
/// which is renamed to the final name only when complete. <see cref="Create"/> refuses an existing non-empty target;
/// <see cref="Replace"/> swaps the whole folder.
/// </summary>
public static class AtomicDirectory
{
    /// <summary>
    /// Fills a temporary folder through <paramref name="fill"/> (which receives its path), then renames it to
    /// <paramref name="path"/>. On failure the temporary folder is removed and <paramref name="path"/> is untouched.
    /// </summary>
    public static void Create(string path, Action<string> fill)
    {
        var full = Path.GetFullPath(path.TrimEnd('/', Path.DirectorySeparatorChar));
        if (File.Exists(full)) throw new UserException($"{path}: exists and is a file (expected a new folder)");
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
            throw new UserException($"{path}: folder exists and is not empty; choose a new folder (nothing is overwritten)");
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        var tmp = TemporaryOutputs.Begin(full);
        try
        {
            Directory.CreateDirectory(tmp);
            fill(tmp);
            TemporaryOutputs.Commit(tmp, full, () =>
            {
                if (Directory.Exists(full)) Directory.Delete(full); // empty, checked above
                Directory.Move(tmp, full);
            });
        }
        catch
        {
            TemporaryOutputs.Discard(tmp);
            throw;
        }
    }

    /// <summary>
    /// Fills a temporary sibling of <paramref name="path"/> through <paramref name="fill"/>, then puts it in place of the
    /// folder of that name, which is renamed aside first and deleted after the new one is in place: readers see the old
    /// or the new folder, never a mixture. On any failure the temporary folder is removed and <paramref name="path"/> is
    /// untouched. Both the new and the set-aside folder are <see cref="TemporaryOutputs"/>' (<c>.NAME.tmp-PID-…</c>): an
    /// interrupt removes them and never lets a rename happen after it; those of a killed process are swept by the next
    /// write of the same name. A missing folder is created as <see cref="Create"/> does.
    /// </summary>
    public static void Replace(string path, Action<string> fill)
    {
        var full = Path.GetFullPath(path.TrimEnd('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(full))
        {
            Create(full, fill);
            return;
        }
        var tmp = TemporaryOutputs.Begin(full);
        string? old = null;
        try
        {
            Directory.CreateDirectory(tmp);
            fill(tmp);
            // The folder replaced is itself a temporary from here on: an interrupt or a later run removes it.
            old = TemporaryOutputs.Begin(full);
            TemporaryOutputs.Commit(tmp, full, () =>
            {
                Directory.Move(full, old);
                try { Directory.Move(tmp, full); }
                catch
                {
                    Directory.Move(old, full);
                    throw;
                }
            });
        }
        catch
        {
            TemporaryOutputs.Discard(tmp);
            if (old is not null) TemporaryOutputs.Discard(old);
            throw;
        }
        TemporaryOutputs.Discard(old);
    }
}
