namespace SharpTune.Text.Tokenization;

/// <summary>
/// The result of encoding one text: token ids and, for each, the range of the input it came from.
/// Offsets are in UTF-16 code units of the input string (what <see cref="string.Substring(int, int)"/> takes);
/// <see cref="GetCodePointOffsets(string)"/> converts them to Unicode code points, the unit Hugging Face's tokenizers
/// reports (and the CLI prints). Special tokens added by the post-processor have offsets (0, 0).
/// </summary>
public sealed class TokenEncoding
{
    private readonly Tokenizer _tokenizer;

    internal TokenEncoding(Tokenizer tokenizer, int[] ids, TokenOffset[] offsets, bool[] specialTokensMask, int[] typeIds, int[] sequenceIds)
    {
        _tokenizer = tokenizer;
        Ids = ids;
        Offsets = offsets;
        SpecialTokensMask = specialTokensMask;
        TypeIds = typeIds;
        SequenceIds = sequenceIds;
    }

    /// <summary>Per token, its type id (segment id) from the post-processor's template; 0 without one (1 for the second sequence of a pair).</summary>
    public int[] TypeIds { get; }

    /// <summary>Per token, which input it came from: 0 (the text, or the first of a pair), 1 (the second of a pair), -1 (a template token).</summary>
    public int[] SequenceIds { get; }

    /// <summary>The token ids.</summary>
    public int[] Ids { get; }

    /// <summary>Per token, the range [Start, End) of the input in UTF-16 code units.</summary>
    public TokenOffset[] Offsets { get; }

    /// <summary>Per token, whether the post-processor added it (BOS/EOS from the template).</summary>
    public bool[] SpecialTokensMask { get; }

    /// <summary>Number of tokens.</summary>
    public int Count => Ids.Length;

    /// <summary>The token strings (vocabulary entries) of <see cref="Ids"/>.</summary>
    public string[] Tokens => Ids.Select(id => _tokenizer.IdToToken(id) ?? "").ToArray();

    /// <summary>
    /// The offsets in Unicode code points of <paramref name="text"/> (the string that was encoded): the unit
    /// Hugging Face reports. A lone surrogate counts as one code point (it was encoded as U+FFFD).
    /// </summary>
    public TokenOffset[] GetCodePointOffsets(string text) => GetCodePointOffsets(text, null);

    /// <summary>
    /// Code-point offsets for an encoded pair: tokens of the second sequence are measured in <paramref name="pair"/>
    /// (offsets of each sequence are relative to its own text, as in HF).
    /// </summary>
    public TokenOffset[] GetCodePointOffsets(string text, string? pair)
    {
        var first = CodePointOffsets(text, 0);
        if (pair is null) return first;
        var second = CodePointOffsets(pair, 1);
        for (int i = 0; i < first.Length; i++) if (SequenceIds[i] == 1) first[i] = second[i];
        return first;
    }

    private TokenOffset[] CodePointOffsets(string text, int sequence)
    {
        var map = new int[text.Length + 1];
        int cp = 0;
        for (int i = 0; i < text.Length; i++)
        {
            map[i] = cp;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                map[++i] = cp;
            }
            cp++;
        }
        map[text.Length] = cp;
        var result = new TokenOffset[Offsets.Length];
        for (int i = 0; i < Offsets.Length; i++)
        {
            var o = Offsets[i];
            if (SequenceIds[i] != sequence) { result[i] = o; continue; }
            result[i] = new TokenOffset(map[Math.Min(o.Start, text.Length)], map[Math.Min(o.End, text.Length)]);
        }
        return result;
    }
}

/// <summary>A range [Start, End) of the input text.</summary>
/// <param name="Start">First unit.</param>
/// <param name="End">One past the last unit.</param>
public readonly record struct TokenOffset(int Start, int End);
