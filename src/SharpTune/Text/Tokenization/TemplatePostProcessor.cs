namespace SharpTune.Text.Tokenization;

/// <summary>One piece of a TemplateProcessing template: a special token's ids, or sequence A or B; with its type id.</summary>
internal readonly record struct TemplatePiece(char Sequence, int[] SpecialIds, int TypeId)
{
    public bool IsSpecial => Sequence == '\0';
}

/// <summary>
/// HF's TemplateProcessing: the single template puts special tokens (offsets (0, 0)) around sequence A; the pair
/// template arranges A, B and special tokens, each piece with its type id.
/// </summary>
internal sealed class TemplatePostProcessor(IReadOnlyList<TemplatePiece> single, IReadOnlyList<TemplatePiece>? pair, string description) : IPostProcessor
{
    public IReadOnlyList<TemplatePiece> Single { get; } = single;

    public IReadOnlyList<TemplatePiece>? Pair { get; } = pair;

    public int AddedTokenCount => Single.Where(p => p.IsSpecial).Sum(p => p.SpecialIds.Length);

    public string Describe() => description;

    public void Process(TokenSink tokens, bool addSpecialTokens, Tokenizer tokenizer)
    {
        if (!addSpecialTokens) return;
        int at = 0;
        foreach (var piece in Single)
        {
            if (!piece.IsSpecial) { at = -1; continue; }
            foreach (var id in piece.SpecialIds)
            {
                if (at >= 0) tokens.Insert(at++, id, 0, 0, true);
                else tokens.Add(id, 0, 0, true);
            }
        }
    }

    /// <summary>Applies the pair template to two processed sequences (HF: only with special tokens on).</summary>
    public TokenSink ProcessPair(TokenSink a, TokenSink b, out int[] typeIds, out int[] sequenceIds)
    {
        var result = new TokenSink();
        var types = new List<int>();
        var seqs = new List<int>();
        foreach (var piece in Pair!)
        {
            if (piece.IsSpecial)
            {
                foreach (var id in piece.SpecialIds) { result.Add(id, 0, 0, true); types.Add(piece.TypeId); seqs.Add(-1); }
                continue;
            }
            var src = piece.Sequence == 'A' ? a : b;
            for (int i = 0; i < src.Count; i++)
            {
                result.Add(src.Ids[i], src.Starts[i], src.Ends[i], src.Special[i]);
                types.Add(piece.TypeId);
                seqs.Add(piece.Sequence == 'A' ? 0 : 1);
            }
        }
        typeIds = [.. types];
        sequenceIds = [.. seqs];
        return result;
    }

    /// <summary>Fills the type ids of a single sequence after <see cref="Process"/> added the special tokens.</summary>
    public void SingleTypeIds(Span<int> typeIds)
    {
        int i = 0;
        int sequenceLength = typeIds.Length - AddedTokenCount;
        foreach (var piece in Single)
        {
            int n = piece.IsSpecial ? piece.SpecialIds.Length : sequenceLength;
            typeIds.Slice(i, n).Fill(piece.TypeId);
            i += n;
        }
    }
}
