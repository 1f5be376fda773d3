namespace SharpTune.IO;

/// <summary>
/// Creates a folder so that it never exists half-filled: the content is written into a hidden temporary sibling,
/// which is renamed to the final name only when complete. An existing non-empty target is refused, never merged
/// into or replaced.
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
}
