using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// Byte-pair encoding as Hugging Face's BPE model does it: byte-level (GPT-2, Qwen, Llama 3) or on characters
/// with <c>byte_fallback</c> (SentencePiece conversions: Llama 2, Mistral, Gemma), <c>ignore_merges</c>,
/// <c>unk_token</c> with <c>fuse_unk</c>, <c>continuing_subword_prefix</c> and <c>end_of_word_suffix</c>.
/// Immutable after construction (the word cache is thread-safe), so one instance serves all threads.
/// </summary>
internal sealed class BpeModel
{
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabLookup;
    private readonly string?[] _idToToken;
    private readonly MergeTable _merges;
    private readonly int[] _byteLevelIds = new int[256];
    private readonly int[] _byteFallbackIds = new int[256];
    private readonly int[] _bmpCharIds;
    private readonly WordCache _cache = new(200_000);
    private readonly bool _plainSymbols;

    /// <remarks>
    /// <paramref name="merges"/> are (left id, right id, merged id) in rank order; merged id -1 means "look up
    /// left + right (less the continuing-subword prefix)". Ids must be in <paramref name="vocab"/>.
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public BpeModel(Dictionary<string, int> vocab, List<(int Left, int Right, int Merged)> merges, string? unkToken, bool fuseUnk,
        bool byteFallback, bool ignoreMerges, string? continuingSubwordPrefix, string? endOfWordSuffix, string source)
    {
        _vocab = vocab;
        _vocabLookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        int maxId = -1;
        foreach (var (_, id) in vocab)
        {
            if (id < 0) throw new UserException($"{source}: model.vocab has a negative id {id}");
            if (id > maxId) maxId = id;
        }
        _idToToken = new string?[maxId + 1];
        foreach (var (tok, id) in vocab) _idToToken[id] = tok;
        UnkToken = unkToken;
        FuseUnk = fuseUnk;
        ByteFallback = byteFallback;
        IgnoreMerges = ignoreMerges;
        Prefix = string.IsNullOrEmpty(continuingSubwordPrefix) ? null : continuingSubwordPrefix;
        Suffix = string.IsNullOrEmpty(endOfWordSuffix) ? null : endOfWordSuffix;
        _plainSymbols = Prefix is null && Suffix is null;
        UnkId = -1;
        if (unkToken is not null && vocab.TryGetValue(unkToken, out var unkId)) UnkId = unkId;

        _merges = new MergeTable(merges.Count);
        int prefixLength = Prefix?.Length ?? 0;
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (ia, ib, im) = merges[rank];
            if (im < 0 || prefixLength > 0)
            {
                string a = _idToToken[ia]!, b = _idToToken[ib]!;
                string mergedToken = prefixLength > 0 && b.StartsWith(Prefix!, StringComparison.Ordinal) ? a + b[prefixLength..] : a + b;
                if (!vocab.TryGetValue(mergedToken, out im))
                    throw new UserException($"{source}: model.merges[{rank}]: makes '{mergedToken}', which is not in model.vocab");
            }
            _merges.Set(ia, ib, rank, im);
        }

        Span<char> one = stackalloc char[1];
        for (int b = 0; b < 256; b++)
        {
            one[0] = ByteLevelAlphabet.ByteToChar((byte)b);
            _byteLevelIds[b] = _vocabLookup.TryGetValue(one, out int id) ? id : -1;
            _byteFallbackIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int fid) ? fid : -1;
        }
        _bmpCharIds = new int[0x10000];
        Array.Fill(_bmpCharIds, -1);
        foreach (var (tok, id) in vocab)
            if (tok.Length == 1 && !char.IsSurrogate(tok[0])) _bmpCharIds[tok[0]] = id;
    }

    public int VocabCount => _vocab.Count;
    public int MaxId => _idToToken.Length - 1;
    public string? UnkToken { get; }
    public int UnkId { get; }
    public bool FuseUnk { get; }
    public bool ByteFallback { get; }
    public bool IgnoreMerges { get; }
    public string? Prefix { get; }
    public string? Suffix { get; }
    public int MergeCount => _merges.Count;
    public IReadOnlyDictionary<string, int> Vocab => _vocab;

    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    public bool TryTokenToId(ReadOnlySpan<char> token, out int id) => _vocabLookup.TryGetValue(token, out id);

    public void ClearCache() => _cache.Clear();

    /// <summary>
    /// Tokenizes one pre-tokenized word (units [0, word.Length) of its split); calls <paramref name="sink"/> with
    /// (id, start, end) relative to the word in UTF-16 units, each range covering whole code points.
    /// </summary>
    public void Tokenize(ReadOnlySpan<char> word, bool byteLevel, EncodeScratch scratch, TokenSink sink)
    {
        if (word.IsEmpty) return;
        bool cacheable = word.Length < WordCache.MaxWordLength;
        if (cacheable && _cache.TryGet(word, out var hit))
        {
            for (int i = 0; i < hit.Length; i += 3) sink.Emit(hit[i], hit[i + 1], hit[i + 2]);
            return;
        }
        var m = scratch.Merger;
        m.Clear();
        if (IgnoreMerges && TryWholeWord(word, byteLevel, scratch, out int wholeId))
        {
            m.Add(wholeId, 0, word.Length);
        }
        else
        {
            if (byteLevel) BuildByteLevelSymbols(word, m);
            else BuildCharSymbols(word, m);
            m.MergeAll(_merges);
        }
        int count = 0;
        for (int i = 0; i < m.Count; i++) if (m.Id[i] >= 0) count++;
        int[]? packed = cacheable ? new int[count * 3] : null;
        int k = 0;
        for (int i = 0; i < m.Count; i++)
        {
            if (m.Id[i] < 0) continue;
            sink.Emit(m.Id[i], m.Start[i], m.End[i]);
            if (packed is not null)
            {
                packed[k++] = m.Id[i];
                packed[k++] = m.Start[i];
                packed[k++] = m.End[i];
            }
        }
        if (packed is not null) _cache.Add(word, packed);
    }

    private bool TryWholeWord(ReadOnlySpan<char> word, bool byteLevel, EncodeScratch scratch, out int id)
    {
        if (!byteLevel) return _vocabLookup.TryGetValue(word, out id);
        int byteCount = System.Text.Encoding.UTF8.GetMaxByteCount(word.Length);
        var bytes = scratch.Bytes(byteCount);
        int n = System.Text.Encoding.UTF8.GetBytes(word, bytes);
        var chars = scratch.Chars(n);
        for (int i = 0; i < n; i++) chars[i] = ByteLevelAlphabet.ByteToChar(bytes[i]);
        return _vocabLookup.TryGetValue(chars.AsSpan(0, n), out id);
    }

    private void BuildByteLevelSymbols(ReadOnlySpan<char> word, BpeWordMerger m)
    {
        if (!_plainSymbols) { BuildCharSymbols(word, m, byteLevel: true); return; }
        Span<byte> utf8 = stackalloc byte[4];
        var unk = new PendingUnk();
        for (int i = 0; i < word.Length;)
        {
            char c = word[i];
            if (c < 0x80)
            {
                AddKnownOrUnk(m, ref unk, _byteLevelIds[c], i, i + 1, 1);
                i++;
                continue;
            }
            int cp = NormalizedBuffer.CodePointAt(word, i, out int len);
            int n = new Rune(IsScalar(cp) ? cp : 0xFFFD).EncodeToUtf8(utf8);
            for (int b = 0; b < n; b++) AddKnownOrUnk(m, ref unk, _byteLevelIds[utf8[b]], i, i + len, 1);
            i += len;
        }
        unk.Flush(m);
    }

    private static bool IsScalar(int cp) => cp < 0xD800 || (cp > 0xDFFF && cp <= 0x10FFFF);

    // A symbol that is in the vocabulary flushes a pending unknown; one that is not becomes (or extends) it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddKnownOrUnk(BpeWordMerger m, ref PendingUnk unk, int id, int start, int end, int byteLength)
    {
        if (id >= 0)
        {
            unk.Flush(m);
            m.Add(id, start, end);
            return;
        }
        AddUnk(m, ref unk, start, end);
    }

    private void AddUnk(BpeWordMerger m, ref PendingUnk unk, int start, int end)
    {
        if (UnkId < 0) return; // no unk token: HF drops the symbol
        if (unk.Active && FuseUnk) { unk.End = end; return; }
        unk.Flush(m);
        unk = new PendingUnk { Active = true, Id = UnkId, Start = start, End = end };
    }

    private void BuildCharSymbols(ReadOnlySpan<char> word, BpeWordMerger m, bool byteLevel = false)
    {
        var unk = new PendingUnk();
        Span<char> sym = stackalloc char[64];
        Span<byte> utf8 = stackalloc byte[4];
        int wordEnd = word.Length;
        for (int i = 0; i < word.Length;)
        {
            int cp = NormalizedBuffer.CodePointAt(word, i, out int len);
            bool isFirst = i == 0, isLast = i + len == wordEnd;
            int id = -1;
            if (byteLevel)
            {
                // Byte-level with a prefix/suffix: each byte is its own symbol.
                int n = new Rune(IsScalar(cp) ? cp : 0xFFFD).EncodeToUtf8(utf8);
                for (int b = 0; b < n; b++)
                {
                    int symLen = Compose(sym, ByteLevelAlphabet.ByteToChar(utf8[b]).ToString(), isFirst && b == 0, isLast && b == n - 1);
                    AddKnownOrUnk(m, ref unk, _vocabLookup.TryGetValue(sym[..symLen], out int bid) ? bid : -1, i, i + len, 1);
                }
                i += len;
                continue;
            }
            if (_plainSymbols && cp < 0x10000) id = _bmpCharIds[cp];
            else
            {
                int symLen = Compose(sym, word.Slice(i, len), isFirst, isLast);
                if (!_vocabLookup.TryGetValue(sym[..symLen], out id)) id = -1;
            }
            if (id >= 0)
            {
                unk.Flush(m);
                m.Add(id, i, i + len);
            }
            else if (ByteFallback && TryByteFallback(word.Slice(i, len), isFirst, isLast, m, i, i + len, sym))
            {
                // HF leaves a pending unknown pending across byte-fallback symbols.
            }
            else
            {
                AddUnk(m, ref unk, i, i + len);
            }
            i += len;
        }
        unk.Flush(m);
    }

    private bool TryByteFallback(ReadOnlySpan<char> ch, bool isFirst, bool isLast, BpeWordMerger m, int start, int end, Span<char> sym)
    {
        int symLen = Compose(sym, ch, isFirst, isLast);
        var text = sym[..symLen];
        Span<byte> bytes = stackalloc byte[System.Text.Encoding.UTF8.GetMaxByteCount(text.Length)];
        int n = System.Text.Encoding.UTF8.GetBytes(text, bytes);
        for (int b = 0; b < n; b++) if (_byteFallbackIds[bytes[b]] < 0) return false;
        for (int b = 0; b < n; b++) m.Add(_byteFallbackIds[bytes[b]], start, end);
        return true;
    }

    private int Compose(Span<char> dst, ReadOnlySpan<char> ch, bool isFirst, bool isLast)
    {
        int k = 0;
        if (!isFirst && Prefix is not null) { Prefix.AsSpan().CopyTo(dst); k = Prefix.Length; }
        ch.CopyTo(dst[k..]);
        k += ch.Length;
        if (isLast && Suffix is not null) { Suffix.AsSpan().CopyTo(dst[k..]); k += Suffix.Length; }
        return k;
    }

    private struct PendingUnk
    {
        public bool Active;
        public int Id, Start, End;

        public void Flush(BpeWordMerger m)
        {
            if (!Active) return;
            m.Add(Id, Start, End);
            Active = false;
        }
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"BPE(vocab={VocabCount}, merges={MergeCount}, unk_token={UnkToken ?? "null"}, fuse_unk={FuseUnk}, byte_fallback={ByteFallback}, ignore_merges={IgnoreMerges}, continuing_subword_prefix={Prefix ?? "null"}, end_of_word_suffix={Suffix ?? "null"})");
}
