using System.Globalization;
using System.Text;
using SharpTune.Cli.CommandLine;
using SharpTune.Data.MovieLens;
using SharpTune.Data.Synthetic;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune prepare movielens</c>, <c>prepare synthetic-movielens</c> and <c>prepare behaviours</c> (in BehaviourCommands).</summary>
internal static class PrepareCommands
{
    public static CliCommand Create() =>
        new CliCommand("prepare", "Turn raw data into supervised fine-tuning records.")
            .Add(MovieLens())
            .Add(SyntheticMovieLens())
            .Add(BehaviourCommands.PrepareBehaviours());

    private static CliCommand MovieLens() =>
        new CliCommand("movielens", "Build Yes/No movie-recommendation SFT records from MovieLens ratings.")
        {
            Description =
                "Per user, ratings are sorted by (timestamp, movieId); every rating after the first --history-len becomes a\n" +
                "sample whose input lists the previous --history-len movies with their ratings and whose output is Yes when\n" +
                "the rating is >= --rating-threshold, else No. Writes train.json, eval.json (a sample of validation),\n" +
                "test_raw.jsonl and summary.json into --out; summary.json is written last, after the others are complete.\n" +
                "--verbose also prints the time of each phase on stderr.",
        }
            .Option("ratings", "ratings.csv (ml-latest) or u.data (ml-100k)", "PATH", required: true)
            .Option("movies", "movies.csv (ml-latest) or u.item (ml-100k)", "PATH", required: true)
            .Option("out", "output directory", "DIR", required: true)
            .Option("format", "input layout: latest or 100k (default: detected from the ratings file)", "latest|100k")
            .Option("history-len", "earlier ratings shown as history", "N", "15")
            .Option("rating-threshold", "ratings at or above this are labelled Yes", "R", "4.0")
            .Option("split", "user: whole users per split; temporal: each user's last samples to val/test", "user|temporal", "user")
            .Option("val-ratio", "fraction for validation", "F", "0.05")
            .Option("test-ratio", "fraction for test", "F", "0.1")
            .Option("eval-size", "validation records sampled into eval.json (0 = all)", "N", "150")
            .Option("seed", "seed of the user shuffle and the eval sample", "N", "13")
            .Option("instruction", "instruction text of every record", "TEXT", MovieLensPrepareOptions.DefaultInstruction)
            .Option("system", "system prompt of every record", "TEXT", MovieLensPrepareOptions.DefaultSystem)
            .Flag("skip-bad-rows", "skip and count bad rows instead of stopping at the first")
            .Handle(a =>
            {
                var options = new MovieLensPrepareOptions
                {
                    RatingsPath = a.RequiredString("ratings"),
                    MoviesPath = a.RequiredString("movies"),
                    OutputDirectory = a.RequiredString("out"),
                    Format = a.String("format") is { } f ? MovieLensFormats.Parse(f) : null,
                    HistoryLength = a.Int("history-len", 1),
                    RatingThreshold = a.Double("rating-threshold"),
                    Split = a.Choice("split", "user", "temporal") == "user" ? SplitMode.User : SplitMode.Temporal,
                    ValRatio = a.Double("val-ratio"),
                    TestRatio = a.Double("test-ratio"),
                    EvalSize = a.Int("eval-size", 0),
                    Seed = Seed(a),
                    Instruction = a.RequiredString("instruction"),
                    System = a.RequiredString("system"),
                    SkipBadRows = a.Bool("skip-bad-rows"),
                };
                var summary = MovieLensPreparer.Prepare(options, a.Verbose ? (what, at) => a.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"prepare: {what} done at {at.TotalSeconds:0.000} s")) : null);
                a.Out.Write(SummaryTable(summary));
                a.Out.WriteLine($"\nwrote {Path.Combine(options.OutputDirectory, MovieLensPreparer.TrainFile)}, {MovieLensPreparer.EvalFile}, {MovieLensPreparer.TestFile}, {MovieLensDatasetInfo.FileName}, {MovieLensPreparer.SummaryFile}");
                return CliApp.Success;
            });

    private static CliCommand SyntheticMovieLens() =>
        new CliCommand("synthetic-movielens", "Write a synthetic MovieLens (ratings.csv, movies.csv, ml-latest layout).")
        {
            Description =
                "Users with a rating bias and genre tastes rate movies with a quality, popularity skew and genres;\n" +
                "ratings are half or whole stars, about 48% at 4.0 or above, in time order per user. The same seed\n" +
                "gives the same bytes. Used by 'sharptune demo' when no MovieLens is given.",
        }
            .Option("out", "output directory", "DIR", required: true)
            .Option("users", "number of users", "N", "600")
            .Option("movies", "number of movies", "N", "2000")
            .Option("ratings-per-user-min", "fewest ratings a user has", "N", "20")
            .Option("seed", "seed", "N", "1")
            .Handle(a =>
            {
                var result = Data.Synthetic.SyntheticMovieLens.Generate(new SyntheticMovieLensOptions
                {
                    OutputDirectory = a.RequiredString("out"),
                    Users = a.Int("users", 1),
                    Movies = a.Int("movies", 1),
                    RatingsPerUserMin = a.Int("ratings-per-user-min", 1),
                    Seed = Seed(a),
                });
                a.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {result.RatingsPath} ({result.Ratings:N0} ratings by {result.Users:N0} users) and {result.MoviesPath} ({result.Movies:N0} movies)"));
                return CliApp.Success;
            });

    internal static ulong Seed(ParsedArgs a)
    {
        var s = a.RequiredString("seed");
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new UserException($"--seed: expected a non-negative integer, got '{s}'");
    }

    /// <summary>The preparation summary as a plain-text table for the terminal (prepare movielens and the demo print it).</summary>
    internal static string SummaryTable(PrepareSummary summary)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"MovieLens preparation ({summary.Format.Name()} format)\n\n");
        sb.Append(c, $"{"input",-8} {"rows read",12} {"rejected",10}  {"sha256",-16}  path\n");
        foreach (var i in summary.Inputs)
            sb.Append(c, $"{i.Role,-8} {i.RowsRead,12:N0} {i.RowsRejected,10:N0}  {i.Sha256[..16],-16}  {i.Path}\n");
        if (summary.Format == MovieLensFormat.Ml100k)
            foreach (var i in summary.Inputs.Where(i => i.Role == "movies"))
                sb.Append(i.Encoding == "utf-8"
                    ? $"note: {i.Path} is valid UTF-8 with multi-byte characters, so it was read as UTF-8 (GroupLens ships u.item in latin-1)\n"
                    : $"{i.Path} read as latin-1, as GroupLens ships u.item\n");
        foreach (var i in summary.Inputs)
            foreach (var (k, v) in i.RejectedByReason)
                sb.Append(c, $"  {i.Role} rejected, {k}: {v:N0}\n");
        if (summary.RejectedExamples.Count > 0)
        {
            sb.Append("first rejected rows:\n");
            foreach (var e in summary.RejectedExamples) sb.Append("  ").Append(e).Append('\n');
        }
        sb.Append(c, $"\nratings accepted {summary.RatingsAccepted:N0}; users {summary.Users:N0}: {summary.UsersKept:N0} kept, {summary.UsersSkipped:N0} skipped (<= {summary.Options.HistoryLength} ratings)\n");
        sb.Append(c, $"samples before split {summary.Samples:N0}\n\n");
        sb.Append(c, $"{"split",-6} {"samples",12} {"Yes",12} {"No",12} {"Yes %",7}  file\n");
        foreach (var s in summary.Splits)
        {
            var pct = s.Samples == 0 ? "-" : (100.0 * s.Yes / s.Samples).ToString("0.0", c);
            sb.Append(c, $"{s.Name,-6} {s.Samples,12:N0} {s.Yes,12:N0} {s.No,12:N0} {pct,7}  {s.File ?? "(sampled into eval.json)"}\n");
        }
        var o = summary.Options;
        sb.Append(c, $"\noptions: --history-len {o.HistoryLength} --rating-threshold {o.RatingThreshold:0.0##} --split {(o.Split == SplitMode.User ? "user" : "temporal")} ");
        sb.Append(c, $"--val-ratio {o.ValRatio} --test-ratio {o.TestRatio} --eval-size {o.EvalSize} --seed {o.Seed}{(o.SkipBadRows ? " --skip-bad-rows" : "")}\n");
        return sb.ToString();
    }
}
