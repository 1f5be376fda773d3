using System.Text;
using System.Text.Json;
using SharpTune.Data.MovieLens;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Data;

/// <summary>Small hand-written MovieLens inputs in a temporary directory, and helpers to read the outputs back.</summary>
internal sealed class MovieLensTestFiles : IDisposable
{
    public const string MoviesHeader = "movieId,title,genres\n";
    public const string RatingsHeader = "userId,movieId,rating,timestamp\n";

    private readonly TempDir _dir = TestEnvironment.TempDir();

    public string Ratings => _dir.File("ratings.csv");
    public string Movies => _dir.File("movies.csv");
    public string Out => _dir.File("out");
    public string Dir => _dir.Path;

    /// <summary>Writes movies.csv and ratings.csv (text given without headers unless <paramref name="withHeaders"/> is false).</summary>
    public MovieLensTestFiles Write(string movies, string ratings, bool withHeaders = true)
    {
        File.WriteAllText(Movies, (withHeaders ? MoviesHeader : "") + movies, new UTF8Encoding(false));
        File.WriteAllText(Ratings, (withHeaders ? RatingsHeader : "") + ratings, new UTF8Encoding(false));
        return this;
    }

    /// <summary>Ten movies with plain titles: movie i is "Movie i (2000+i)".</summary>
    public static string PlainMovies(int count = 10) =>
        string.Concat(Enumerable.Range(1, count).Select(i => $"{i},Movie {i} ({2000 + i}),Drama\n"));

    public MovieLensPrepareOptions Options(Func<MovieLensPrepareOptions, MovieLensPrepareOptions>? change = null)
    {
        var o = new MovieLensPrepareOptions { RatingsPath = Ratings, MoviesPath = Movies, OutputDirectory = Out };
        return change is null ? o : change(o);
    }

    public PrepareSummary Prepare(Func<MovieLensPrepareOptions, MovieLensPrepareOptions>? change = null) =>
        MovieLensPreparer.Prepare(Options(change));

    public static List<JsonElement> ReadArray(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    public static List<JsonElement> ReadLines(string path) =>
        File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    public List<JsonElement> Train => ReadArray(Path.Combine(Out, "train.json"));
    public List<JsonElement> Eval => ReadArray(Path.Combine(Out, "eval.json"));
    public List<JsonElement> Test => ReadLines(Path.Combine(Out, "test_raw.jsonl"));

    public void Dispose() => _dir.Dispose();
}
