using SharpTune.Text.Tokenization;

namespace SharpTune.Text;

/// <summary>
/// The <see cref="ITextTokenizer"/> over a Hugging Face <see cref="Tokenization.Tokenizer"/>, optionally parsed on
/// first use (a preprocessing run answered from the cache never parses tokenizer.json). BOS and EOS come from its
/// tokenizer_config.json when present.
/// </summary>
public sealed class TextTokenizer : ITextTokenizer
{
    private readonly Lazy<Tokenizer> _tokenizer;
    private readonly Lazy<(IReadOnlySet<int> Special, int? Bos, int? Eos)> _ids;

    /// <summary>Wraps a loaded tokenizer.</summary>
    public TextTokenizer(Tokenizer tokenizer) : this(new Lazy<Tokenizer>(tokenizer)) { }

    /// <summary>Wraps a tokenizer loaded on first use.</summary>
    public TextTokenizer(Lazy<Tokenizer> tokenizer)
    {
        _tokenizer = tokenizer;
        _ids = new(() =>
        {
            var t = _tokenizer.Value;
            return (t.AddedTokens.Where(a => a.Special).Select(a => a.Id).ToHashSet(),
                t.Config?.BosToken is { } bos ? t.TokenToId(bos) : null,
                t.Config?.EosToken is { } eos ? t.TokenToId(eos) : null);
        });
    }

    /// <summary>Loads <c>tokenizer.json</c> (and tokenizer_config.json beside it) on first use.</summary>
    public static TextTokenizer Load(string tokenizerJson) => new(new Lazy<Tokenizer>(() => Tokenizer.Load(tokenizerJson)));

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer => _tokenizer.Value;

    /// <inheritdoc />
    public IReadOnlySet<int> SpecialIds => _ids.Value.Special;

    /// <inheritdoc />
    public int? BosId => _ids.Value.Bos;

    /// <inheritdoc />
    public int? EosId => _ids.Value.Eos;

    /// <inheritdoc />
    public int[] Encode(string text, bool addSpecialTokens) => Tokenizer.Encode(text, addSpecialTokens).Ids;

    /// <inheritdoc />
    public (int[] Ids, CharSpan[] Offsets) EncodeWithOffsets(string text)
    {
        var e = Tokenizer.Encode(text, addSpecialTokens: false);
        var offsets = new CharSpan[e.Offsets.Length];
        for (int i = 0; i < offsets.Length; i++) offsets[i] = new CharSpan(e.Offsets[i].Start, e.Offsets[i].End);
        return (e.Ids, offsets);
    }

    /// <inheritdoc />
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens) => Tokenizer.Decode(ids, skipSpecialTokens);

    /// <inheritdoc />
    public int? TokenToId(string token) => Tokenizer.TokenToId(token);

    /// <inheritdoc />
    public string? IdToToken(int id) => Tokenizer.IdToToken(id);
}
