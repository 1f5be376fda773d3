using System.Text;
using SharpTune.Data.Csv;

namespace SharpTune.Data.MovieLens;

/// <summary>What reading one input file produced.</summary>
/// <param name="Path">The path as given.</param>
/// <param name="Sha256">SHA-256 of the whole file, lowercase hex.</param>
/// <param name="RowsRead">Data rows seen (header and empty lines excluded).</param>
/// <param name="Rejected">Rows rejected (only with --skip-bad-rows; otherwise the first bad row stops the run).</param>
/// <param name="Encoding">How the text was decoded: "utf-8", or "latin-1" for an ml-100k file that is not UTF-8.</param>
internal sealed record InputFileReport(string Path, string Sha256, long RowsRead, RejectedRows Rejected, string Encoding = "utf-8");

/// <summary>
/// Reads the movies and ratings files of either <see cref="MovieLensFormat"/>, validating every row: field count,
/// numbers, rating range (0.5–5.0), and that every rated movie has a title.
/// </summary>
internal static class MovieLensReader
{
    private const string LatestMoviesHeader = "movieId,title,genres";
    private const string LatestRatingsHeader = "userId,movieId,rating,timestamp";
    private const int Ml100kItemFields = 24; // id|title|release|video release|IMDb URL|19 genre flags

    /// <summary>Reads movies.csv (ml-latest) or u.item (ml-100k) into <paramref name="catalog"/>.</summary>
    public static InputFileReport ReadMovies(string path, MovieLensFormat format, MovieCatalog catalog, bool skipBadRows)
    {
        var rejected = new RejectedRows(skipBadRows);
        bool latest = format == MovieLensFormat.Latest;
        using var reader = DelimitedReader.Open(path, latest ? (byte)',' : (byte)'|', quotes: latest);
        // ml-100k ships u.item in latin-1; a copy re-saved as UTF-8 would turn into mojibake ("CÃ©rÃ©monie") if read
        // as latin-1. Valid UTF-8 with multi-byte characters is almost never latin-1 text, so it is read as UTF-8.
        bool utf8 = latest || IsUtf8WithMultibyte(path);
        Encoding encoding = utf8 ? new UTF8Encoding(false) : Encoding.Latin1;
        if (latest) ExpectHeader(reader, LatestMoviesHeader);
        int expectedFields = latest ? 3 : Ml100kItemFields;
        long rows = 0;
        while (reader.Read())
        {
            rows++;
            if (reader.FieldCount != expectedFields)
            {
                rejected.Reject(reader.Where, RejectReason.WrongFieldCount,
                    latest ? $"expected 3 fields (movieId,title,genres), got {reader.FieldCount}"
                           : $"expected {Ml100kItemFields} '|'-separated fields (movie id|title|release date|video release date|IMDb URL|19 genre flags), got {reader.FieldCount}");
                continue;
            }
            if (!Utf8Numbers.TryInt(reader[0], out var movieId))
            {
                rejected.Reject(reader.Where, RejectReason.UnparsableNumber, $"movieId '{Show(reader[0])}' is not an integer");
                continue;
            }
            var title = encoding.GetString(reader[1]).Trim();
            if (title.Length == 0)
            {
                rejected.Reject(reader.Where, RejectReason.EmptyTitle, $"movieId {movieId} has an empty title");
                continue;
            }
            if (!catalog.TryAdd(movieId, title))
                rejected.Reject(reader.Where, RejectReason.DuplicateMovieId, $"movieId {movieId} appears more than once");
        }
        return new InputFileReport(path, reader.FinishSha256(), rows, rejected, utf8 ? "utf-8" : "latin-1");
    }

    /// <summary>Whether the file is valid UTF-8 and holds at least one multi-byte character (pure ASCII is both encodings).</summary>
    internal static bool IsUtf8WithMultibyte(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return bytes.AsSpan().IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0 && System.Text.Unicode.Utf8.IsValid(bytes);
    }

    /// <summary>Reads ratings.csv (ml-latest) or u.data (ml-100k) into <paramref name="table"/>.</summary>
    public static InputFileReport ReadRatings(string path, MovieLensFormat format, MovieCatalog catalog, RatingTable table, bool skipBadRows)
    {
        var rejected = new RejectedRows(skipBadRows);
        bool latest = format == MovieLensFormat.Latest;
        using var reader = DelimitedReader.Open(path, latest ? (byte)',' : (byte)'\t', quotes: latest);
        if (latest) ExpectHeader(reader, LatestRatingsHeader);
        long rows = 0;
        while (reader.Read())
        {
            rows++;
            if (reader.FieldCount != 4)
            {
                rejected.Reject(reader.Where, RejectReason.WrongFieldCount,
                    $"expected 4 fields (userId,movieId,rating,timestamp), got {reader.FieldCount}");
                continue;
            }
            if (!Utf8Numbers.TryInt(reader[0], out var userId)) { BadNumber(reader, rejected, "userId", 0); continue; }
            if (!Utf8Numbers.TryInt(reader[1], out var movieId)) { BadNumber(reader, rejected, "movieId", 1); continue; }
            if (!Utf8Numbers.TryDouble(reader[2], out var rating)) { BadNumber(reader, rejected, "rating", 2); continue; }
            if (!Utf8Numbers.TryLong(reader[3], out var timestamp)) { BadNumber(reader, rejected, "timestamp", 3); continue; }
            if (rating < 0.5 || rating > 5.0)
            {
                rejected.Reject(reader.Where, RejectReason.RatingOutOfRange, $"rating {Show(reader[2])} is outside 0.5–5.0");
                continue;
            }
            if (!catalog.TryGetIndex(movieId, out var movieIndex))
            {
                rejected.Reject(reader.Where, RejectReason.MovieWithoutTitle, $"movieId {movieId} has no title in the movies file");
                continue;
            }
            table.Add(userId, movieIndex, (byte)Math.Round(rating * 10, MidpointRounding.AwayFromZero), timestamp);
        }
        return new InputFileReport(path, reader.FinishSha256(), rows, rejected);
    }

    private static void ExpectHeader(DelimitedReader reader, string expected)
    {
        if (!reader.Read())
            throw new UserException($"{reader.Name}:1: the file is empty; expected the header '{expected}'");
        var fields = new string[reader.FieldCount];
        for (int i = 0; i < fields.Length; i++) fields[i] = Encoding.UTF8.GetString(reader[i]);
        var got = string.Join(',', fields);
        if (got != expected)
            throw new UserException($"{reader.Where}: wrong header '{Shorten(SharpTune.Text.VisibleText.Escape(got))}'; expected '{expected}'");
    }

    private static void BadNumber(DelimitedReader reader, RejectedRows rejected, string field, int index) =>
        rejected.Reject(reader.Where, RejectReason.UnparsableNumber, $"{field} '{Show(reader[index])}' is not a number");

    private static string Show(ReadOnlySpan<byte> field) => Shorten(Encoding.UTF8.GetString(field));

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
