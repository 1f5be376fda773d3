using SharpTune.Text.Tokenization;

namespace SharpTune.Preprocessing;

/// <summary>An <see cref="ITokenEncoder"/> over a Hugging Face <see cref="Tokenizer"/>.</summary>
public sealed class TokenizerEncoder : ITokenEncoder
{
    /// <summary>Wraps a tokenizer; BOS/EOS come from its tokenizer_config.json when present.</summary>
    public TokenizerEncoder(Tokenizer tokenizer)
    {
        Tokenizer = tokenizer;
        SpecialIds = tokenizer.AddedTokens.Where(t => t.Special).Select(t => t.Id).ToHashSet();
        BosId = tokenizer.Config?.BosToken is { } bos ? tokenizer.TokenToId(bos) : null;
        EosId = tokenizer.Config?.EosToken is { } eos ? tokenizer.TokenToId(eos) : null;
    }

    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <inheritdoc />
    public IReadOnlySet<int> SpecialIds { get; }

    /// <inheritdoc />
    public int? BosId { get; }

    /// <inheritdoc />
    public int? EosId { get; }

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
