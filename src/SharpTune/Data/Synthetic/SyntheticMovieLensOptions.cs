namespace SharpTune.Data.Synthetic;

/// <summary>Options of <c>sharptune prepare synthetic-movielens</c>.</summary>
public sealed record SyntheticMovieLensOptions
{
    /// <summary>Output directory for ratings.csv and movies.csv.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Number of users.</summary>
    public int Users { get; init; } = 600;

    /// <summary>Number of movies.</summary>
    public int Movies { get; init; } = 2000;

    /// <summary>Fewest ratings any user has.</summary>
    public int RatingsPerUserMin { get; init; } = 20;

    /// <summary>Seed; the same seed gives the same bytes.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws a <see cref="UserException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Users < 1) throw new UserException($"--users: expected an integer >= 1, got {Users}");
        if (Movies < 10) throw new UserException($"--movies: expected an integer >= 10, got {Movies}");
        if (RatingsPerUserMin < 1) throw new UserException($"--ratings-per-user-min: expected an integer >= 1, got {RatingsPerUserMin}");
        if (RatingsPerUserMin > Movies / 2)
            throw new UserException($"--ratings-per-user-min: expected at most half of --movies ({Movies / 2}), got {RatingsPerUserMin}");
    }
}
