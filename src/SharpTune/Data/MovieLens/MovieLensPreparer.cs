using SharpTune.IO;
using SharpTune.Numerics;

namespace SharpTune.Data.MovieLens;

/// <summary>
/// <c>sharptune prepare movielens</c>: reads MovieLens ratings and movies, builds each user's timeline, turns every
/// rating after the first history-len into a Yes/No sample, splits them, and writes train.json, eval.json,
/// test_raw.jsonl, dataset_info.json (<see cref="MovieLensDatasetInfo"/>) and summary.json. All files are written under temporary names and renamed at the end,
/// summary.json last, so a directory with a summary.json holds a complete dataset.
/// </summary>
public static class MovieLensPreparer
{
    /// <summary>File names written in the output directory.</summary>
    public const string TrainFile = "train.json", EvalFile = "eval.json", TestFile = "test_raw.jsonl", SummaryFile = "summary.json";

    /// <summary>
    /// Runs the preparation and returns its summary (also saved as summary.json). When <paramref name="phaseDone"/> is
    /// given, it gets each phase's name and the time elapsed when it ended (timings never go into the outputs, which
    /// stay byte-identical); the caller decides how to show them.
    /// </summary>
    public static PrepareSummary Prepare(MovieLensPrepareOptions options, Action<string, TimeSpan>? phaseDone = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Phase(string what) => phaseDone?.Invoke(what, clock.Elapsed);
        var data = Load(options, Phase);
        var (format, catalog, movies, ratings, timelines, plan) = (data.Format, data.Catalog, data.MoviesReport, data.RatingsReport, data.Timelines, data.Plan);
        long valCount = plan.Count(DatasetSplit.Val);
        var inEval = EvalSelection(valCount, options.EvalSize, options.Seed);
        if (plan.SampleCount.Sum(m => (long)m) == 0)
            throw new UserException($"{options.RatingsPath}: no samples: none of the {timelines.UserCount:N0} users has more than --history-len {options.HistoryLength} ratings ({ratings.Rejected.Total:N0} rows skipped); lower --history-len (an empty train.json is refused)");

        var counts = WriteOutputs(options, catalog, timelines, plan, inEval);
        Phase("writing records");
        int kept = plan.SampleCount.Count(m => m > 0);
        var summary = new PrepareSummary
        {
            Format = format,
            Inputs =
            [
                new InputSummary("ratings", ratings.Path, ratings.Sha256, ratings.RowsRead, ratings.Rejected.Total, ratings.Rejected.ByReason),
                new InputSummary("movies", movies.Path, movies.Sha256, movies.RowsRead, movies.Rejected.Total, movies.Rejected.ByReason, movies.Encoding),
            ],
            RejectedExamples = [.. movies.Rejected.Examples, .. ratings.Rejected.Examples],
            Users = timelines.UserCount,
            UsersKept = kept,
            RatingsAccepted = timelines.Movies.Length,
            Samples = plan.SampleCount.Sum(m => (long)m),
            Splits =
            [
                new SplitSummary("train", TrainFile, counts[0].Yes + counts[0].No, counts[0].Yes, counts[0].No),
                new SplitSummary("val", null, counts[1].Yes + counts[1].No, counts[1].Yes, counts[1].No),
                new SplitSummary("test", TestFile, counts[2].Yes + counts[2].No, counts[2].Yes, counts[2].No),
                new SplitSummary("eval", EvalFile, counts[3].Yes + counts[3].No, counts[3].Yes, counts[3].No),
            ],
            Options = options with { Format = format },
        };
        MovieLensDatasetInfo.Write(options.OutputDirectory); // the splits by name for a training config (dataset: movielens_train)
        AtomicFile.WriteAllBytes(Path.Combine(options.OutputDirectory, SummaryFile), summary.ToJson());
        return summary;
    }

    /// <summary>
    /// Reads the inputs, builds the timelines and the split plan exactly as <see cref="Prepare"/> does, without
    /// writing anything. <c>sharptune baselines</c> rebuilds a prepared dataset's samples through this.
    /// </summary>
    internal static MovieLensData Load(MovieLensPrepareOptions options, Action<string>? phase = null)
    {
        options.Validate();
        if (File.Exists(options.OutputDirectory))
            throw new UserException($"--out: {options.OutputDirectory} is a file; expected a directory");
        var format = options.Format ?? MovieLensFormats.Detect(options.RatingsPath);
        if (Directory.Exists(options.MoviesPath)) throw new UserException($"{options.MoviesPath}: is a directory; expected the movies file");
        SharpTune.IO.InputPaths.RequireFile(options.MoviesPath, $"{options.MoviesPath}: file not found");

        var catalog = new MovieCatalog();
        var movies = MovieLensReader.ReadMovies(options.MoviesPath, format, catalog, options.SkipBadRows);
        if (movies.RowsRead - movies.Rejected.Total <= 0)
            throw new UserException($"{options.MoviesPath}: no movies ({movies.RowsRead:N0} data rows read, {movies.Rejected.Total:N0} skipped); an empty result is refused");
        var table = new RatingTable();
        var ratings = MovieLensReader.ReadRatings(options.RatingsPath, format, catalog, table, options.SkipBadRows);
        if (ratings.RowsRead - ratings.Rejected.Total <= 0)
            throw new UserException($"{options.RatingsPath}: no ratings ({ratings.RowsRead:N0} data rows read, {ratings.Rejected.Total:N0} skipped); an empty result is refused");
        phase?.Invoke("reading");
        var timelines = UserTimelines.Build(table, catalog);
        phase?.Invoke("timelines");
        var ratingCounts = new int[timelines.UserCount];
        for (int u = 0; u < ratingCounts.Length; u++) ratingCounts[u] = timelines.RatingCount(u);
        var plan = SplitPlan.Create(ratingCounts, options.HistoryLength, options.Split, options.ValRatio, options.TestRatio, options.Seed);
        return new MovieLensData(format, catalog, movies, ratings, timelines, plan);
    }

    // A deterministic choice of evalSize of the val samples (all when 0 or when there are fewer), by val order.
    internal static bool[] EvalSelection(long valCount, int evalSize, ulong seed)
    {
        var selected = new bool[valCount];
        if (evalSize == 0 || evalSize >= valCount)
        {
            Array.Fill(selected, true);
            return selected;
        }
        var order = new int[valCount];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var rng = new SplitMix64(seed ^ 0x5EED_E7A1_0000_0001UL);
        for (int i = 0; i < evalSize; i++)
        {
            int j = i + rng.Next(order.Length - i);
            (order[i], order[j]) = (order[j], order[i]);
            selected[order[i]] = true;
        }
        return selected;
    }

    private static (long Yes, long No)[] WriteOutputs(MovieLensPrepareOptions o, MovieCatalog catalog, UserTimelines timelines, SplitPlan plan, bool[] inEval)
    {
        var dir = o.OutputDirectory;
        Directory.CreateDirectory(dir);
        // A previous summary.json would make a half-replaced directory look complete: remove it first.
        File.Delete(Path.Combine(dir, SummaryFile));
        string[] finals = [Path.Combine(dir, TrainFile), Path.Combine(dir, EvalFile), Path.Combine(dir, TestFile)];
        var temps = finals.Select(AtomicFile.TemporaryPathFor).ToArray();
        var counts = new (long Yes, long No)[4];
        try
        {
            using (var trainStream = Create(temps[0]))
            using (var evalStream = Create(temps[1]))
            using (var testStream = Create(temps[2]))
            {
                var writer = new BackgroundBlockWriter();
                var train = new JsonArrayOutput(new ByteSink(trainStream, writer));
                var eval = new JsonArrayOutput(new ByteSink(evalStream, writer));
                var test = new ByteSink(testStream, writer);
                try
                {
                    var formatter = new SftRecordFormatter(catalog, o.HistoryLength, o.Instruction, o.System);
                    int threshold = o.ThresholdTenths;
                    long valIndex = 0;
                    for (int u = 0; u < timelines.UserCount; u++)
                    {
                        int start = timelines.Offsets[u], userId = timelines.UserIds[u];
                        for (int j = 0; j < plan.SampleCount[u]; j++)
                        {
                            int target = start + o.HistoryLength + j;
                            bool yes = SftRecordFormatter.IsYes(timelines.Tenths[target], threshold);
                            var split = plan.SplitOf(u, j);
                            Count(counts, (int)split, yes);
                            if (split == DatasetSplit.Train)
                                formatter.Write(train.BeginItem(), timelines, target, yes, raw: false, userId);
                            else if (split == DatasetSplit.Test)
                            {
                                formatter.Write(test, timelines, target, yes, raw: true, userId);
                                test.Write("\n"u8);
                            }
                            else if (inEval[valIndex++])
                            {
                                Count(counts, 3, yes);
                                formatter.Write(eval.BeginItem(), timelines, target, yes, raw: false, userId);
                            }
                        }
                    }
                    train.End();
                    eval.End();
                    test.Flush();
                }
                finally
                {
                    writer.Complete(); // also on failure: the thread must stop before the temporary files are deleted
                }
                trainStream.Flush(flushToDisk: false);
                evalStream.Flush(flushToDisk: false);
                testStream.Flush(flushToDisk: false);
            }
            TemporaryOutputs.Commit(temps, finals, () =>
            {
                for (int i = 0; i < finals.Length; i++) File.Move(temps[i], finals[i], overwrite: true);
            });
        }
        catch
        {
            foreach (var t in temps) TemporaryOutputs.Discard(t);
            throw;
        }
        return counts;
    }

    private static void Count((long Yes, long No)[] counts, int i, bool yes)
    {
        if (yes) counts[i].Yes++; else counts[i].No++;
    }

    private static FileStream Create(string path) =>
        new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.SequentialScan);

    /// <summary>A JSON array written one record a line: "[\n  {...},\n  {...}\n]\n" ("[]\n" when empty).</summary>
    private sealed class JsonArrayOutput(ByteSink sink)
    {
        private bool _any;

        public ByteSink BeginItem()
        {
            sink.Write(_any ? ",\n  "u8 : "[\n  "u8);
            _any = true;
            return sink;
        }

        public void End()
        {
            sink.Write(_any ? "\n]\n"u8 : "[]\n"u8);
            sink.Flush();
        }
    }
}
