using System.Security.Cryptography;
using System.Text.Json;
using SharpTune.Data.MovieLens;

namespace SharpTune.Evaluation.Baselines;

/// <summary>
/// A dataset written by <c>prepare movielens</c>, rebuilt from the inputs its summary.json names: the options are
/// read back, each input's sha256 is checked against the recorded one (a changed file is an error), and the
/// timelines and split plan are rebuilt by the same code (<see cref="MovieLensPreparer.Load"/>), then checked
/// against the recorded split counts.
/// </summary>
internal sealed class PreparedMovieLens
{
    private PreparedMovieLens(MovieLensPrepareOptions options, MovieLensData data)
    {
        Options = options;
        Data = data;
    }

    /// <summary>The options of the original run.</summary>
    public MovieLensPrepareOptions Options { get; }

    /// <summary>Catalog, timelines and split plan.</summary>
    public MovieLensData Data { get; }

    /// <summary>
    /// Opens <paramref name="dir"/>/summary.json. Input paths are taken as recorded (relative ones from the current
    /// directory, then from <paramref name="dir"/>) unless <paramref name="ratingsPath"/> / <paramref name="moviesPath"/> are given.
    /// </summary>
    public static PreparedMovieLens Open(string dir, string? ratingsPath = null, string? moviesPath = null)
    {
        var summaryPath = Path.Combine(dir, MovieLensPreparer.SummaryFile);
        if (!Directory.Exists(dir)) throw new UserException($"--prepared: directory not found: {dir}");
        if (!File.Exists(summaryPath))
            throw new UserException($"{summaryPath}: file not found; --prepared must be an output folder of sharptune prepare movielens");
        using var doc = ParseSummary(summaryPath);
        var root = doc.RootElement;
        var inputs = Member(root, "inputs", summaryPath, JsonValueKind.Object);
        var ratings = Member(inputs, "ratings", summaryPath + ": inputs", JsonValueKind.Object);
        var movies = Member(inputs, "movies", summaryPath + ": inputs", JsonValueKind.Object);
        var o = Member(root, "options", summaryPath, JsonValueKind.Object);
        string where = summaryPath + ": options";

        var resolvedRatings = ratingsPath ?? Resolve(Str(ratings, "path", summaryPath + ": inputs.ratings"), dir, summaryPath, "ratings");
        var resolvedMovies = moviesPath ?? Resolve(Str(movies, "path", summaryPath + ": inputs.movies"), dir, summaryPath, "movies");
        CheckSha(resolvedRatings, Str(ratings, "sha256", summaryPath + ": inputs.ratings"), summaryPath, "ratings");
        CheckSha(resolvedMovies, Str(movies, "sha256", summaryPath + ": inputs.movies"), summaryPath, "movies");

        var split = Str(o, "split", where);
        var options = new MovieLensPrepareOptions
        {
            RatingsPath = resolvedRatings,
            MoviesPath = resolvedMovies,
            OutputDirectory = dir,
            Format = MovieLensFormats.Parse(Str(o, "format", where)),
            HistoryLength = (int)Num(o, "history_len", where),
            RatingThreshold = Num(o, "rating_threshold", where),
            Split = split switch
            {
                "user" => SplitMode.User,
                "temporal" => SplitMode.Temporal,
                _ => throw new UserException($"{where}.split: expected user or temporal, got '{split}'"),
            },
            ValRatio = Num(o, "val_ratio", where),
            TestRatio = Num(o, "test_ratio", where),
            EvalSize = (int)Num(o, "eval_size", where),
            Seed = Member(o, "seed", where, JsonValueKind.Number).TryGetUInt64(out var seed) ? seed : throw new UserException($"{where}: \"seed\" must be a non-negative integer"),
            Instruction = Str(o, "instruction", where),
            System = Str(o, "system", where),
            SkipBadRows = Member(o, "skip_bad_rows", where, JsonValueKind.True, JsonValueKind.False).GetBoolean(),
        };
        var data = MovieLensPreparer.Load(options);

        // The rebuilt split must be the recorded one (same code, same inputs, same options: anything else is a bug or a hand-edited summary).
        var splits = Member(root, "splits", summaryPath, JsonValueKind.Object);
        foreach (var (name, s) in new[] { ("train", DatasetSplit.Train), ("test", DatasetSplit.Test) })
        {
            long recorded = (long)Num(Member(splits, name, summaryPath + ": splits", JsonValueKind.Object), "samples", $"{summaryPath}: splits.{name}");
            long rebuilt = data.Plan.Count(s);
            if (recorded != rebuilt)
                throw new UserException($"{summaryPath}: splits.{name}.samples is {recorded} but the inputs and options give {rebuilt}; rerun prepare movielens");
        }
        return new PreparedMovieLens(options, data);
    }

    private static JsonDocument ParseSummary(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new UserException($"{path}:{e.LineNumber + 1}: malformed JSON; expected the summary.json of prepare movielens");
        }
    }

    private static string Resolve(string recorded, string dir, string summaryPath, string role)
    {
        if (File.Exists(recorded)) return recorded;
        if (!Path.IsPathRooted(recorded) && File.Exists(Path.Combine(dir, recorded))) return Path.Combine(dir, recorded);
        throw new UserException($"{summaryPath}: inputs.{role}.path '{recorded}' not found (from the current directory or {dir}); pass --{role} PATH");
    }

    private static void CheckSha(string path, string recorded, string summaryPath, string role)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"--{role}: file not found: {path}");
        string now;
        using (var fs = File.OpenRead(path)) now = Convert.ToHexStringLower(SHA256.HashData(fs));
        if (!string.Equals(now, recorded, StringComparison.OrdinalIgnoreCase))
            throw new UserException($"{path}: changed since prepare movielens wrote {summaryPath} (sha256 {now[..16]}… now, {(recorded.Length >= 16 ? recorded[..16] : recorded)}… recorded); rerun prepare movielens");
    }

    private static JsonElement Member(JsonElement e, string name, string where, params JsonValueKind[] kinds)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v))
            throw new UserException($"{where}: no \"{name}\"; expected the summary.json of prepare movielens");
        if (!kinds.Contains(v.ValueKind))
            throw new UserException($"{where}: \"{name}\" must be a {string.Join(" or ", kinds.Select(k => k.ToString().ToLowerInvariant()))}, got {v.ValueKind.ToString().ToLowerInvariant()}");
        return v;
    }

    private static string Str(JsonElement e, string name, string where) => Member(e, name, where, JsonValueKind.String).GetString()!;

    private static double Num(JsonElement e, string name, string where)
    {
        var v = Member(e, name, where, JsonValueKind.Number);
        return v.TryGetDouble(out var d) ? d : throw new UserException($"{where}: \"{name}\" is not a number: {v.GetRawText()}");
    }
}
