namespace SharpTune.Data.MovieLens;

/// <summary>
/// Each user's ratings in time order: users by ascending userId, each user's ratings sorted by
/// (timestamp, movieId). Built with a counting sort by user and a small sort per user, in flat arrays.
/// </summary>
internal sealed class UserTimelines
{
    private UserTimelines(int[] userIds, int[] offsets, int[] movies, byte[] tenths, long[] times)
    {
        UserIds = userIds;
        Offsets = offsets;
        Movies = movies;
        Tenths = tenths;
        Times = times;
    }

    /// <summary>userId of each user, ascending.</summary>
    public int[] UserIds { get; }

    /// <summary>User u's ratings are at [Offsets[u], Offsets[u + 1]).</summary>
    public int[] Offsets { get; }

    /// <summary>Movie (catalog) index of each rating, in timeline order.</summary>
    public int[] Movies { get; }

    /// <summary>Rating ×10 of each rating, in timeline order.</summary>
    public byte[] Tenths { get; }

    /// <summary>Timestamp of each rating, in timeline order.</summary>
    public long[] Times { get; }

    /// <summary>Number of users.</summary>
    public int UserCount => UserIds.Length;

    /// <summary>Number of ratings of user <paramref name="u"/>.</summary>
    public int RatingCount(int u) => Offsets[u + 1] - Offsets[u];

    private struct Key(long time, int movieId, int row) : IComparable<Key>
    {
        public readonly long Time = time;
        public readonly int MovieId = movieId;
        public readonly int Row = row;

        public readonly int CompareTo(Key other)
        {
            int c = Time.CompareTo(other.Time);
            return c != 0 ? c : MovieId.CompareTo(other.MovieId);
        }
    }

    /// <summary>Groups and sorts the ratings.</summary>
    public static UserTimelines Build(RatingTable table, MovieCatalog catalog)
    {
        int users = table.UserIds.Count, n = table.Count;
        // rank[u] = position of user index u when users are ordered by userId.
        var byId = Enumerable.Range(0, users).ToArray();
        var ids = table.UserIds.ToArray();
        Array.Sort(ids, byId);
        var rank = new int[users];
        for (int r = 0; r < users; r++) rank[byId[r]] = r;

        var offsets = new int[users + 1];
        foreach (var u in table.Users) offsets[rank[u] + 1]++;
        for (int r = 0; r < users; r++) offsets[r + 1] += offsets[r];

        // Stable placement of row numbers by user rank.
        var order = new int[n];
        var next = offsets.AsSpan(0, users).ToArray();
        var userCol = table.Users;
        for (int i = 0; i < n; i++) order[next[rank[userCol[i]]]++] = i;

        var movies = new int[n];
        var tenths = new byte[n];
        var times = new long[n];
        var movieCol = table.Movies;
        var tenthCol = table.Tenths;
        var timeCol = table.Times;
        var keys = new Key[Math.Max(1, MaxRun(offsets))];
        for (int r = 0; r < users; r++)
        {
            int start = offsets[r], count = offsets[r + 1] - start;
            var k = keys.AsSpan(0, count);
            for (int j = 0; j < count; j++)
            {
                int row = order[start + j];
                k[j] = new Key(timeCol[row], catalog.IdAt(movieCol[row]), row);
            }
            k.Sort();
            for (int j = 0; j < count; j++)
            {
                int row = k[j].Row;
                movies[start + j] = movieCol[row];
                tenths[start + j] = tenthCol[row];
                times[start + j] = timeCol[row];
            }
        }
        return new UserTimelines(ids, offsets, movies, tenths, times);
    }

    private static int MaxRun(int[] offsets)
    {
        int max = 0;
        for (int i = 0; i + 1 < offsets.Length; i++) max = Math.Max(max, offsets[i + 1] - offsets[i]);
        return max;
    }
}
