namespace SharpTune.Text.Tokenization;

/// <summary>
/// A Hugging Face tokenizer loaded from <c>tokenizer.json</c>: normalizer, pre-tokenizer, BPE model, post-processor
/// and decoder, plus added tokens. Produces the ids and offsets the HF <c>tokenizers</c> library produces for the
/// same file and text. Immutable and thread-safe after loading.
/// </summary>
public sealed class Tokenizer
{
    private readonly BpeModel _model;
    private readonly INormalizer? _normalizer;
    private readonly IPreTokenizer? _preTokenizer;
    private IPostProcessor? _postProcessor;
    private readonly IDecoder? _decoder;
    private readonly bool _byteLevel;
    private readonly AddedTokenMatcher _originalMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;
    private readonly Dictionary<int, AddedToken> _addedById = new();
    private readonly Dictionary<string, AddedToken> _addedByContent = new(StringComparer.Ordinal);

    internal Tokenizer(BpeModel model, INormalizer? normalizer, IPreTokenizer? preTokenizer, IPostProcessor? postProcessor,
        IDecoder? decoder, IReadOnlyList<AddedToken> addedTokens, bool byteLevel, string source)
    {
        _model = model;
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _postProcessor = postProcessor;
        _decoder = decoder;
        _byteLevel = byteLevel;
        Source = source;
        AddedTokens = addedTokens;
        foreach (var t in addedTokens)
        {
            _addedById.TryAdd(t.Id, t);
            _addedByContent.TryAdd(t.Content, t);
        }
        _originalMatcher = new AddedTokenMatcher(addedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedMatcher = new AddedTokenMatcher(addedTokens.Where(t => t.Normalized).Select(t => (Normalizers.Apply(normalizer, t.Content), t)));
        int extra = addedTokens.Select(t => t.Content).Distinct(StringComparer.Ordinal).Count(c => !model.TryTokenToId(c, out _));
        VocabSize = model.VocabCount + extra;
        MaxId = Math.Max(model.MaxId, addedTokens.Count == 0 ? -1 : addedTokens.Max(t => t.Id));
    }

    /// <summary>
    /// Loads a tokenizer.json (and, when it sits beside it, tokenizer_config.json into <see cref="Config"/>). As in
    /// transformers, a Llama- or Gemma-class tokenizer_config.json decides the special tokens added around a text:
    /// its <c>add_bos_token</c> (default true) and <c>add_eos_token</c> (default false) replace tokenizer.json's
    /// post-processor (see <see cref="TransformersPostProcessor"/>).
    /// </summary>
    public static Tokenizer Load(string path) => TokenizerJsonLoader.Load(path);

    /// <summary>Parses tokenizer.json content; <paramref name="source"/> names it in errors.</summary>
    public static Tokenizer FromJson(ReadOnlySpan<byte> json, string source) => TokenizerJsonLoader.Parse(json, source);

    /// <summary>Where the tokenizer came from (a path or a label).</summary>
    public string Source { get; }

    /// <summary>The tokenizer_config.json found beside tokenizer.json, or null.</summary>
    public TokenizerConfig? Config { get; internal set; }

    /// <summary>The added tokens, in file order.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Vocabulary size including added tokens (HF's get_vocab_size(true)).</summary>
    public int VocabSize { get; }

    /// <summary>The largest id any token has.</summary>
    public int MaxId { get; }

    /// <summary>The model type (always "BPE" today).</summary>
    public string ModelType => "BPE";

    /// <summary>Whether the model works on bytes (GPT-2-style ByteLevel pre-tokenizer).</summary>
    public bool IsByteLevel => _byteLevel;

    /// <summary>How many special tokens the post-processor adds to one sequence when asked to.</summary>
    public int SpecialTokensAdded => _postProcessor?.AddedTokenCount ?? 0;

    // The transformers layer (tokenizer_config.json) may rebuild the post-processor after tokenizer.json is read.
    internal void ReplacePostProcessor(IPostProcessor postProcessor) => _postProcessor = postProcessor;

    /// <summary>The token string of <paramref name="id"/> (added tokens first, then the model), or null.</summary>
    public string? IdToToken(int id) => _addedById.TryGetValue(id, out var t) ? t.Content : _model.IdToToken(id);

    /// <summary>The id of a token string (added tokens first, then the model), or null.</summary>
    public int? TokenToId(string token)
    {
        if (_addedByContent.TryGetValue(token, out var t)) return t.Id;
        return _model.TryTokenToId(token, out int id) ? id : null;
    }

    /// <summary>Whether <paramref name="id"/> is a special added token.</summary>
    public bool IsSpecial(int id) => _addedById.TryGetValue(id, out var t) && t.Special;

    /// <summary>
    /// Encodes one text. Added tokens (special or not) in the text are always recognised;
    /// <paramref name="addSpecialTokens"/> only controls the post-processor's template (BOS/EOS).
    /// </summary>
    public TokenEncoding Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var scratch = EncodeScratch.Current;
        EncodeToSink(text, addSpecialTokens, scratch);
        var sink = scratch.Sink;
        int n = sink.Count;
        var ids = sink.Ids.AsSpan(0, n).ToArray();
        var offsets = new TokenOffset[n];
        for (int i = 0; i < n; i++) offsets[i] = new TokenOffset(sink.Starts[i], sink.Ends[i]);
        var special = sink.Special.AsSpan(0, n).ToArray();
        var typeIds = new int[n];
        if (addSpecialTokens && Template is { } template) template.SingleTypeIds(typeIds);
        var sequenceIds = new int[n];
        for (int i = 0; i < n; i++) if (special[i]) sequenceIds[i] = -1;
        return new TokenEncoding(this, ids, offsets, special, typeIds, sequenceIds);
    }

    // The TemplateProcessing step of the post-processor, if any.
    private TemplatePostProcessor? Template => FlattenPostProcessors().OfType<TemplatePostProcessor>().FirstOrDefault();

    private IEnumerable<IPostProcessor> FlattenPostProcessors()
    {
        if (_postProcessor is null) return [];
        return _postProcessor is SequencePostProcessor seq ? seq.Steps : [_postProcessor];
    }

    /// <summary>
    /// Encodes a pair of texts (e.g. question and answer) like HF's <c>encode(a, b)</c>: each is encoded on its own;
    /// with <paramref name="addSpecialTokens"/> the pair template arranges them, otherwise they are concatenated.
    /// Offsets are relative to each sequence's own text; <see cref="TokenEncoding.SequenceIds"/> tells which.
    /// </summary>
    public TokenEncoding EncodePair(string text, string pair, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(pair);
        var scratch = EncodeScratch.Current;
        var a = EncodeRaw(text, scratch);
        var b = EncodeRaw(pair, scratch);
        TokenSink? merged = null;
        int[]? typeIds = null, sequenceIds = null;
        foreach (var step in FlattenPostProcessors())
        {
            if (step is TemplatePostProcessor t)
            {
                if (!addSpecialTokens) continue;
                if (t.Pair is null) throw new UserException($"{Source}: post_processor has no pair template");
                merged = t.ProcessPair(a, b, out typeIds, out sequenceIds);
            }
            else if (merged is null)
            {
                step.Process(a, addSpecialTokens, this);
                step.Process(b, addSpecialTokens, this);
            }
        }
        if (merged is null)
        {
            merged = new TokenSink();
            var types = new List<int>();
            foreach (var (src, seq) in new[] { (a, 0), (b, 1) })
                for (int i = 0; i < src.Count; i++) { merged.Add(src.Ids[i], src.Starts[i], src.Ends[i], false); types.Add(seq); }
            typeIds = [.. types];
            sequenceIds = [.. types];
        }
        int n = merged.Count;
        var offsets = new TokenOffset[n];
        for (int i = 0; i < n; i++) offsets[i] = new TokenOffset(merged.Starts[i], merged.Ends[i]);
        return new TokenEncoding(this, merged.Ids.AsSpan(0, n).ToArray(), offsets, merged.Special.AsSpan(0, n).ToArray(), typeIds!, sequenceIds!);
    }

    // Encodes without post-processing into a fresh sink (pair encoding needs both sequences at once).
    private TokenSink EncodeRaw(string text, EncodeScratch scratch)
    {
        EncodeToSink(text, false, scratch, postProcess: false);
        var s = scratch.Sink;
        var copy = new TokenSink { Text = s.Text };
        for (int i = 0; i < s.Count; i++) copy.Add(s.Ids[i], s.Starts[i], s.Ends[i], false);
        return copy;
    }

    /// <summary>Encodes only to count tokens (no result arrays); used by benchmarks and length checks.</summary>
    public int CountTokens(string text, bool addSpecialTokens = true)
    {
        var scratch = EncodeScratch.Current;
        EncodeToSink(text, addSpecialTokens, scratch);
        return scratch.Sink.Count;
    }

    /// <summary>Encodes many texts in parallel (results in input order).</summary>
    public TokenEncoding[] EncodeBatch(IReadOnlyList<string> texts, bool addSpecialTokens = true, int maxDegreeOfParallelism = -1)
    {
        var result = new TokenEncoding[texts.Count];
        Parallel.For(0, texts.Count, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, i => result[i] = Encode(texts[i], addSpecialTokens));
        return result;
    }

    internal void EncodeToSink(string text, bool addSpecialTokens, EncodeScratch scratch, bool postProcess = true)
    {
        var sink = scratch.Sink;
        sink.Clear();
        string t = ReplaceLoneSurrogates(text);
        sink.Text = t;
        var st = scratch.State;
        st.Reset();

        var matches = scratch.AddedMatches;
        matches.Clear();
        _originalMatcher.FindMatches(t, matches);
        int pos = 0;
        foreach (var m in matches)
        {
            if (m.Start > pos) AddPiece(t, pos, m.Start, scratch);
            st.Splits.Add(new PreTokenSplit(0, 0, m.Id, m.Start, m.End));
            pos = m.End;
        }
        if (pos < t.Length) AddPiece(t, pos, t.Length, scratch);

        _preTokenizer?.PreTokenize(st);

        var buffer = st.Buffer;
        foreach (var split in st.Splits)
        {
            if (split.IsAdded)
            {
                sink.Add(split.AddedId, split.OriginalStart, split.OriginalEnd, false);
                continue;
            }
            if (split.End == split.Start) continue;
            sink.BeginWord(buffer, split.Start);
            _model.Tokenize(buffer.Chars.AsSpan(split.Start, split.End - split.Start), _byteLevel, scratch, sink);
        }
        if (postProcess) _postProcessor?.Process(sink, addSpecialTokens, this);
    }

    // Normalizes one stretch of the original text between added tokens and appends it to the buffer as a split
    // (split again around normalized added tokens).
    private void AddPiece(ReadOnlySpan<char> text, int start, int end, EncodeScratch scratch)
    {
        var st = scratch.State;
        var buffer = st.Buffer;
        if (_normalizer is null && _normalizedMatcher.IsEmpty)
        {
            int b = buffer.Length;
            buffer.AppendOriginal(text[start..end], start);
            st.Splits.Add(PreTokenSplit.Text(b, buffer.Length));
            return;
        }
        var piece = scratch.Piece;
        piece.Clear();
        piece.AppendOriginal(text[start..end], start);
        if (_normalizer is not null)
        {
            _normalizer.Normalize(ref scratch.Piece, ref scratch.PieceSpare);
            piece = scratch.Piece;
        }
        int baseIndex = buffer.Length;
        buffer.AppendFrom(piece, 0, piece.Length);
        var nm = scratch.NormalizedMatches;
        nm.Clear();
        _normalizedMatcher.FindMatches(piece.Span, nm);
        int pos = 0;
        foreach (var m in nm)
        {
            if (m.Start > pos) st.Splits.Add(PreTokenSplit.Text(baseIndex + pos, baseIndex + m.Start));
            st.Splits.Add(new PreTokenSplit(0, 0, m.Id, piece.Start[m.Start], piece.End[m.End - 1]));
            pos = m.End;
        }
        if (pos < piece.Length) st.Splits.Add(PreTokenSplit.Text(baseIndex + pos, baseIndex + piece.Length));
    }

    /// <summary>Lone surrogates cannot be UTF-8; like the HF binding (which receives UTF-8) they become U+FFFD, one unit each.</summary>
    internal static string ReplaceLoneSurrogates(string text)
    {
        int i = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0) return text;
        char[]? copy = null;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { i++; continue; }
            copy ??= text.ToCharArray();
            copy[i] = '\uFFFD';
        }
        return copy is null ? text : new string(copy);
    }

    /// <summary>
    /// Decodes ids to text through the decoder, like HF's decode. Ids that no token has are an error (HF
    /// silently drops them). With <paramref name="skipSpecialTokens"/>, special added tokens are left out.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            var token = IdToToken(id) ?? throw new UserException($"id {id} at position {i} is not in the vocabulary (ids run 0..{MaxId})");
            if (skipSpecialTokens && IsSpecial(id)) continue;
            tokens.Add(token);
        }
        if (_decoder is null) return string.Join(" ", tokens);
        return string.Concat(_decoder.DecodeChain(tokens));
    }

    /// <summary>A multi-line description of the pipeline for <c>tokenizer info</c>.</summary>
    public IReadOnlyList<(string Component, string Description)> DescribePipeline() =>
    [
        ("normalizer", _normalizer?.Describe() ?? "none"),
        ("pre_tokenizer", _preTokenizer?.Describe() ?? "none"),
        ("model", _model.Describe()),
        ("post_processor", _postProcessor?.Describe() ?? "none"),
        ("decoder", _decoder?.Describe() ?? "none"),
    ];

    /// <summary>Drops the word cache (benchmarks measure cold and warm runs).</summary>
    public void ClearCache() => _model.ClearCache();
}
