using System.Text;

namespace SharpTune.IO;

/// <summary>
/// Writes files so that a reader never sees a half-written one: the content goes to a temporary name in the
/// same directory and is renamed over the final name only after it has been flushed and closed.
/// </summary>
public static class AtomicFile
{
    /// <summary>The temporary name used while <paramref name="path"/> is being written.</summary>
    /// <remarks>
    /// The name is registered with <see cref="TemporaryOutputs"/> (removed on interrupt; stale ones of dead processes
    /// are removed now): pair it with <see cref="TemporaryOutputs.Commit(string, string, Action)"/> and
    /// <see cref="TemporaryOutputs.Discard"/>.
    /// </remarks>
    public static string TemporaryPathFor(string path) => TemporaryOutputs.Begin(path);

    /// <summary>
    /// Checks, before long work, that <paramref name="path"/> can be written: not a folder, and its folder exists or
    /// can be created (a parent that is a file, or a path under /proc, fails here with the path named).
    /// </summary>
    public static void CheckWritable(string path)
    {
        if (Directory.Exists(path)) throw new UserException($"{path}: is a directory; expected a file to write");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        for (var d = dir; !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
            if (File.Exists(d)) throw new UserException($"{d}: is a file, so {path} cannot be written under it");
        Directory.CreateDirectory(dir);
    }

    /// <summary>Writes through <paramref name="write"/> into a temporary file, then renames it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = TemporaryPathFor(path);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: false);
            }
            TemporaryOutputs.Commit(tmp, path, () => File.Move(tmp, path, overwrite: true));
        }
        catch
        {
            TemporaryOutputs.Discard(tmp);
            throw;
        }
    }

    /// <summary>Writes UTF-8 text (no BOM) atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            var bytes = new UTF8Encoding(false).GetBytes(text);
            s.Write(bytes);
        });

    /// <summary>Writes bytes atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Writes text through a <see cref="TextWriter"/> (UTF-8, no BOM, "\n" line ends) atomically.</summary>
    public static void WriteText(string path, Action<TextWriter> write) =>
        Write(path, s =>
        {
            using var w = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            write(w);
        });
}
