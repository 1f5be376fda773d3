namespace SharpTune.Data.MovieLens;

/// <summary>The file layouts GroupLens ships MovieLens in.</summary>
public enum MovieLensFormat
{
    /// <summary>ml-latest style: <c>ratings.csv</c> (userId,movieId,rating,timestamp) and <c>movies.csv</c> (movieId,title,genres), UTF-8, with headers.</summary>
    Latest,

    /// <summary>ml-100k style: <c>u.data</c> (tab-separated user item rating timestamp) and <c>u.item</c> (pipe-separated, latin-1), no headers.</summary>
    Ml100k,
}

/// <summary>Parsing and detection of <see cref="MovieLensFormat"/>.</summary>
public static class MovieLensFormats
{
    /// <summary>The word used on the command line and in summary.json.</summary>
    public static string Name(this MovieLensFormat format) => format == MovieLensFormat.Latest ? "latest" : "100k";

    /// <summary>Parses <c>latest</c> or <c>100k</c>.</summary>
    public static MovieLensFormat Parse(string word) => word switch
    {
        "latest" => MovieLensFormat.Latest,
        "100k" => MovieLensFormat.Ml100k,
        _ => throw new UserException($"--format: expected latest or 100k, got '{word}'"),
    };

    /// <summary>
    /// Detects the layout from the first line of the ratings file: the ml-latest header, or a tab-separated line.
    /// </summary>
    public static MovieLensFormat Detect(string ratingsPath)
    {
        if (Directory.Exists(ratingsPath)) throw new UserException($"{ratingsPath}: is a directory; expected the ratings file");
        SharpTune.IO.InputPaths.RequireFile(ratingsPath, $"{ratingsPath}: file not found");
        if (new FileInfo(ratingsPath).Length == 0) throw new UserException($"{ratingsPath}: file is empty; expected MovieLens ratings");
        Span<byte> head = stackalloc byte[256];
        int n;
        using (var fs = File.OpenRead(ratingsPath)) n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var line = head[..n];
        if (line.StartsWith("\uFEFF"u8)) line = line[3..];
        int nl = line.IndexOf((byte)'\n');
        if (nl >= 0) line = line[..nl];
        if (line.StartsWith("userId,"u8)) return MovieLensFormat.Latest;
        if (line.IndexOf((byte)'\t') >= 0) return MovieLensFormat.Ml100k;
        throw new UserException($"{ratingsPath}:1: cannot tell the format: expected the header 'userId,movieId,rating,timestamp' (ml-latest) or a tab-separated 'user item rating timestamp' line (ml-100k); pass --format");
    }
}
