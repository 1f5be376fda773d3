namespace SharpTune.Data.MovieLens;

/// <summary>Why an input row was rejected.</summary>
public enum RejectReason
{
    /// <summary>The row has the wrong number of fields.</summary>
    WrongFieldCount,

    /// <summary>A number field does not parse.</summary>
    UnparsableNumber,

    /// <summary>A rating is outside 0.5–5.0.</summary>
    RatingOutOfRange,

    /// <summary>A rating names a movieId that has no title in the movies file.</summary>
    MovieWithoutTitle,

    /// <summary>A movies row has an empty title.</summary>
    EmptyTitle,

    /// <summary>A movies row repeats a movieId.</summary>
    DuplicateMovieId,
}

/// <summary>
/// Bad rows: either the first one stops the run with a <see cref="UserException"/>, or (with --skip-bad-rows)
/// each is counted by reason and the first few are kept as examples for the summary.
/// </summary>
internal sealed class RejectedRows(bool skip, int maxExamples = 5)
{
    private readonly long[] _counts = new long[Enum.GetValues<RejectReason>().Length];
    private readonly List<string> _examples = [];

    /// <summary>The reason's name in summary.json and the table.</summary>
    public static string Key(RejectReason reason) => reason switch
    {
        RejectReason.WrongFieldCount => "wrong_field_count",
        RejectReason.UnparsableNumber => "unparsable_number",
        RejectReason.RatingOutOfRange => "rating_out_of_range",
        RejectReason.MovieWithoutTitle => "movie_without_title",
        RejectReason.EmptyTitle => "empty_title",
        RejectReason.DuplicateMovieId => "duplicate_movie_id",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };

    /// <summary>Total rows rejected.</summary>
    public long Total => _counts.Sum();

    /// <summary>Rejected rows by reason (only reasons that occurred), in enum order.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> ByReason =>
        Enum.GetValues<RejectReason>().Where(r => _counts[(int)r] > 0).Select(r => KeyValuePair.Create(Key(r), _counts[(int)r])).ToList();

    /// <summary>The first few rejected rows as "file:line: problem".</summary>
    public IReadOnlyList<string> Examples => _examples;

    /// <summary>Rejects a row: throws unless skipping, else counts it.</summary>
    public void Reject(string where, RejectReason reason, string problem)
    {
        var message = $"{where}: {problem}";
        if (!skip) throw new UserException(message + " (use --skip-bad-rows to skip and count bad rows)");
        _counts[(int)reason]++;
        if (_examples.Count < maxExamples) _examples.Add(message);
    }
}
