using System.Globalization;

namespace SharpTune.Data.MovieLens;

/// <summary>Options of <c>sharptune prepare movielens</c>; defaults are the documented ones.</summary>
public sealed record MovieLensPrepareOptions
{
    /// <summary>The default instruction text.</summary>
    public const string DefaultInstruction = "Predict whether the user will like the candidate movie. Answer only with Yes or No.";

    /// <summary>The default system prompt.</summary>
    public const string DefaultSystem = "You are a movie recommendation assistant. Given a user's recent history and a candidate movie. Please begin your analysis with 'Yes' or 'No'.";

    /// <summary>Ratings file (ratings.csv or u.data).</summary>
    public required string RatingsPath { get; init; }

    /// <summary>Movies file (movies.csv or u.item).</summary>
    public required string MoviesPath { get; init; }

    /// <summary>Output directory.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Input layout; null to detect from the ratings file.</summary>
    public MovieLensFormat? Format { get; init; }

    /// <summary>Number of earlier ratings shown as history.</summary>
    public int HistoryLength { get; init; } = 15;

    /// <summary>Ratings at or above this are labelled Yes.</summary>
    public double RatingThreshold { get; init; } = 4.0;

    /// <summary>How samples are split.</summary>
    public SplitMode Split { get; init; } = SplitMode.User;

    /// <summary>Fraction for validation (users or each user's samples).</summary>
    public double ValRatio { get; init; } = 0.05;

    /// <summary>Fraction for test (users or each user's samples).</summary>
    public double TestRatio { get; init; } = 0.1;

    /// <summary>Validation records written to eval.json; 0 writes all of them.</summary>
    public int EvalSize { get; init; } = 150;

    /// <summary>Seed of the user shuffle and the eval selection.</summary>
    public ulong Seed { get; init; } = 13;

    /// <summary>The instruction field of every record.</summary>
    public string Instruction { get; init; } = DefaultInstruction;

    /// <summary>The system field of every record.</summary>
    public string System { get; init; } = DefaultSystem;

    /// <summary>Skip and count bad rows instead of stopping at the first.</summary>
    public bool SkipBadRows { get; init; }

    /// <summary>Throws a <see cref="UserException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (HistoryLength < 1) throw new UserException($"--history-len: expected an integer >= 1, got {HistoryLength}");
        if (HistoryLength > 1000) throw new UserException($"--history-len: expected at most 1000, got {HistoryLength}");
        if (!(RatingThreshold >= 0.5 && RatingThreshold <= 5.0))
            throw new UserException($"--rating-threshold: expected a number in 0.5–5.0, got {RatingThreshold.ToString(CultureInfo.InvariantCulture)}");
        if (!(ValRatio >= 0 && ValRatio < 1)) throw new UserException($"--val-ratio: expected a fraction in [0, 1), got {ValRatio.ToString(CultureInfo.InvariantCulture)}");
        if (!(TestRatio >= 0 && TestRatio < 1)) throw new UserException($"--test-ratio: expected a fraction in [0, 1), got {TestRatio.ToString(CultureInfo.InvariantCulture)}");
        if (ValRatio + TestRatio >= 1) throw new UserException($"--val-ratio + --test-ratio must be below 1 (got {(ValRatio + TestRatio).ToString(CultureInfo.InvariantCulture)}), or nothing is left to train on");
        if (EvalSize < 0) throw new UserException($"--eval-size: expected an integer >= 0, got {EvalSize}");
    }

    /// <summary>The threshold in tenths of a star, rounded up so that "rating ≥ threshold" is exact on one-decimal ratings.</summary>
    internal int ThresholdTenths => (int)Math.Ceiling(Math.Round(RatingThreshold * 10, 6));
}
