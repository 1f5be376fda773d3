namespace SharpTune.Data.MovieLens;

/// <summary>
/// All accepted ratings, column by column (user index, movie index, rating in tenths, timestamp): 17 bytes a
/// rating and no object per row, so ten million ratings fit in well under 200 MB.
/// </summary>
internal sealed class RatingTable
{
    private int[] _user = new int[1024];
    private int[] _movie = new int[1024];
    private byte[] _tenths = new byte[1024];
    private long[] _time = new long[1024];
    private readonly Dictionary<int, int> _userIndex = [];
    private readonly List<int> _userIds = [];

    /// <summary>Number of ratings.</summary>
    public int Count { get; private set; }

    /// <summary>Raw user ids by user index (first-seen order).</summary>
    public IReadOnlyList<int> UserIds => _userIds;

    /// <summary>User index of each rating.</summary>
    public ReadOnlySpan<int> Users => _user.AsSpan(0, Count);

    /// <summary>Movie (catalog) index of each rating.</summary>
    public ReadOnlySpan<int> Movies => _movie.AsSpan(0, Count);

    /// <summary>Rating ×10 (5..50) of each rating.</summary>
    public ReadOnlySpan<byte> Tenths => _tenths.AsSpan(0, Count);

    /// <summary>Unix timestamp of each rating.</summary>
    public ReadOnlySpan<long> Times => _time.AsSpan(0, Count);

    /// <summary>Appends a rating.</summary>
    public void Add(int userId, int movieIndex, byte tenths, long timestamp)
    {
        if (Count == _user.Length) Grow();
        if (!_userIndex.TryGetValue(userId, out var u))
        {
            u = _userIds.Count;
            _userIndex.Add(userId, u);
            _userIds.Add(userId);
        }
        _user[Count] = u;
        _movie[Count] = movieIndex;
        _tenths[Count] = tenths;
        _time[Count] = timestamp;
        Count++;
    }

    private void Grow()
    {
        int n = _user.Length * 2;
        Array.Resize(ref _user, n);
        Array.Resize(ref _movie, n);
        Array.Resize(ref _tenths, n);
        Array.Resize(ref _time, n);
    }
}
