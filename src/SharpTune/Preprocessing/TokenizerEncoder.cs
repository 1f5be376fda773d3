using SharpTune.Text.Tokenization;

namespace SharpTune.Preprocessing;

/// <summary>An <see cref="ITokenEncoder"/> over a Hugging Face <see cref="Tokenizer"/>.</summary>
public sealed class TokenizerEncoder : ITokenEncoder
{
    private readonly Lazy<Tokenizer> _tokenizer;
    private readonly Lazy<(IReadOnlySet<int> Special, int? Bos, int? Eos)> _ids;

    /// <summary>Wraps a tokenizer; BOS/EOS come from its tokenizer_config.json when present.</summary>
    public TokenizerEncoder(Tokenizer tokenizer) : this(new Lazy<Tokenizer>(tokenizer)) { }

    /// <summary>
    /// Wraps a tokenizer loaded on first use, so that a preprocessing run answered from the cache never parses
    /// tokenizer.json.
    /// </summary>
    public TokenizerEncoder(Lazy<Tokenizer> tokenizer)
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

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer => _tokenizer.Value;

    /// <inheritdoc />
    public IReadOnlySet<int> SpecialIds => _ids.Value.Special;

    /// <inheritdoc />
    public int? BosId => _ids.Value.Bos;

    /// <inheritdoc />
    public int? EosId => _ids.Value.Eos;

    /// <inheritdoc />
    public (int[] Ids, CharSpan[] Offsets) Encode(string text)
    {
        var e = Tokenizer.Encode(text, addSpecialTokens: false);
        var offsets = new CharSpan[e.Offsets.Length];
        for (int i = 0; i < offsets.Length; i++) offsets[i] = new CharSpan(e.Offsets[i].Start, e.Offsets[i].End);
        return (e.Ids, offsets);
    }

    /// <inheritdoc />
    public string Decode(ReadOnlySpan<int> ids) => Tokenizer.Decode(ids, skipSpecialTokens: false);
}
