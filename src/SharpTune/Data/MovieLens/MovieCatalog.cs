using SharpTune.Data.Csv;

namespace SharpTune.Data.MovieLens;

/// <summary>
/// The movies by id: each title is kept once, both as text and as pre-escaped JSON UTF-8 bytes, so that writing
/// millions of records copies bytes instead of formatting strings.
/// </summary>
internal sealed class MovieCatalog
{
    private readonly Dictionary<int, int> _indexById = [];
    private readonly List<int> _ids = [];
    private readonly List<string> _titles = [];
    private readonly List<byte[]> _titleJson = [];

    /// <summary>Number of movies.</summary>
    public int Count => _ids.Count;

    /// <summary>Adds a movie; false when the id is already present.</summary>
    public bool TryAdd(int movieId, string title)
    {
        if (!_indexById.TryAdd(movieId, _ids.Count)) return false;
        _ids.Add(movieId);
        _titles.Add(title);
        _titleJson.Add(JsonText.Escape(title));
        return true;
    }

    /// <summary>The dense index of a movie id.</summary>
    public bool TryGetIndex(int movieId, out int index) => _indexById.TryGetValue(movieId, out index);

    /// <summary>The movie id at a dense index.</summary>
    public int IdAt(int index) => _ids[index];

    /// <summary>The title at a dense index.</summary>
    public string TitleAt(int index) => _titles[index];

    /// <summary>The JSON-escaped UTF-8 title at a dense index.</summary>
    public byte[] TitleJsonAt(int index) => _titleJson[index];
}
