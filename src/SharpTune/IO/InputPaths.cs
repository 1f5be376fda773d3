namespace SharpTune.IO;

/// <summary>
/// Checks of paths the user names as inputs, worded alike by every verb: a folder where a file belongs is named as
/// such ("PATH: is a directory; expected a file"), not reported as missing or as a permission problem.
/// </summary>
public static class InputPaths
{
    /// <summary>
    /// Returns when <paramref name="path"/> is an existing file; a folder is a <see cref="UserException"/> saying so,
    /// a missing path one with <paramref name="notFound"/>.
    /// </summary>
    public static void RequireFile(string path, string notFound)
    {
        if (Directory.Exists(path)) throw new UserException($"{path}: is a directory; expected a file");
        if (!File.Exists(path)) throw new UserException(notFound);
    }

    /// <summary>
    /// Returns when <paramref name="path"/> is an existing folder; a file is a <see cref="UserException"/> saying so,
    /// a missing path one with <paramref name="notFound"/>.
    /// </summary>
    public static void RequireFolder(string path, string notFound)
    {
        if (File.Exists(path)) throw new UserException($"{path}: is a file; expected a folder");
        if (!Directory.Exists(path)) throw new UserException(notFound);
    }
}
