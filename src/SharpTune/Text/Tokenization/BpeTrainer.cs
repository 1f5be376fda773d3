using System.Runtime.InteropServices;

namespace SharpTune.Text.Tokenization;

/// <summary>Settings of <see cref="BpeTrainer"/>.</summary>
/// <param name="VocabSize">Total vocabulary size: 256 byte tokens + merges + special tokens.</param>
/// <param name="SpecialTokens">Special tokens, given ids after the learned vocabulary in this order.</param>
/// <param name="MinFrequency">A pair must occur at least this often to be merged.</param>
public sealed record BpeTrainerOptions(int VocabSize, IReadOnlyList<string> SpecialTokens, int MinFrequency = 2);

/// <summary>The learned byte-level BPE: vocabulary (byte-level strings → id), merges in rank order, special tokens.</summary>
/// <param name="Vocab">Tokens of the model, ids 0..Count-1 (256 byte tokens first).</param>
/// <param name="Merges">Merge rules in rank order.</param>
/// <param name="SpecialTokens">Special tokens with their ids (after the model's).</param>
/// <param name="WordsSeen">Distinct pre-tokenized words the counts came from.</param>
public sealed record TrainedBpe(IReadOnlyList<string> Vocab, IReadOnlyList<(string Left, string Right)> Merges, IReadOnlyList<(string Content, int Id)> SpecialTokens, int WordsSeen);

/// <summary>
/// Trains a byte-level BPE tokenizer (the Qwen2/Qwen3 layout: Qwen's pre-tokenizer regex, then ByteLevel, no
/// normalizer). Words are counted after pre-tokenization; then the most frequent adjacent pair is merged until
/// the vocabulary is full. Ties go to the pair whose (left, right) strings sort first (ordinal), so the result is
/// deterministic. Pair counts are updated incrementally per affected word, with a lazily invalidated max-heap.
/// </summary>
public static class BpeTrainer
{
    /// <summary>The pre-tokenizer regex trained tokenizers use (Qwen2/Qwen3's).</summary>
    public const string PreTokenizerPattern = PreTokenizerRegexScanner.QwenPattern;

    /// <summary>Learns merges from <paramref name="texts"/>.</summary>
    public static TrainedBpe Train(IEnumerable<string> texts, BpeTrainerOptions options)
    {
        int specials = options.SpecialTokens.Count;
        if (options.SpecialTokens.Distinct(StringComparer.Ordinal).Count() != specials)
            throw new UserException("--special-tokens: a special token is listed twice");
        if (options.SpecialTokens.Any(s => s.Length == 0)) throw new UserException("--special-tokens: a special token is empty");
        if (options.VocabSize < 256 + specials)
            throw new UserException($"--vocab-size: must be at least {256 + specials} (256 byte tokens + {specials} special tokens), got {options.VocabSize}");
        if (options.MinFrequency < 1) throw new UserException($"--min-frequency: must be at least 1, got {options.MinFrequency}");

        // 1. Count pre-tokenized words (special tokens in the text are cut out, as the tokenizer will do).
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        var scanner = PreTokenizerRegexScanner.For(PreTokenizerPattern)!;
        var matcher = new AddedTokenMatcher(options.SpecialTokens.Select((s, i) => (s, new AddedToken(i, s, true))));
        var addedMatches = new List<AddedTokenMatch>();
        var pieces = new List<(int Start, int End, bool IsMatch)>();
        foreach (var raw in texts)
        {
            var text = Tokenizer.ReplaceLoneSurrogates(raw);
            addedMatches.Clear();
            matcher.FindMatches(text, addedMatches);
            int pos = 0;
            foreach (var m in addedMatches.Append(new AddedTokenMatch(-1, text.Length, text.Length)))
            {
                var part = text.AsSpan(pos, m.Start - pos);
                pieces.Clear();
                scanner.FindMatches(part, pieces);
                foreach (var (s, e, _) in pieces)
                {
                    if (e == s) continue;
                    ref int c = ref CollectionsMarshal.GetValueRefOrAddDefault(lookup, part[s..e], out _);
                    c++;
                }
                pos = m.End;
            }
        }

        // 2. Words as byte-token id sequences.
        var vocab = new List<string>(options.VocabSize);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int b = 0; b < 256; b++)
        {
            var t = ByteLevelAlphabet.ByteToChar((byte)b).ToString();
            ids[t] = vocab.Count;
            vocab.Add(t);
        }
        var words = new List<int[]>(counts.Count);
        var freq = new List<long>(counts.Count);
        foreach (var (w, c) in counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(w);
            words.Add(bytes.Select(x => (int)x).ToArray());
            freq.Add(c);
        }

        // 3. Pair statistics.
        var pairCount = new Dictionary<long, long>();
        var where = new Dictionary<long, HashSet<int>>();
        for (int wi = 0; wi < words.Count; wi++) AddPairs(words[wi], wi, freq[wi], pairCount, where, +1);
        var heap = new PriorityQueue<long, (long Count, string Left, string Right)>(Comparer<(long Count, string Left, string Right)>.Create((x, y) =>
        {
            int c = y.Count.CompareTo(x.Count);
            if (c != 0) return c;
            c = string.CompareOrdinal(x.Left, y.Left);
            return c != 0 ? c : string.CompareOrdinal(x.Right, y.Right);
        }));
        foreach (var (p, c) in pairCount) heap.Enqueue(p, (c, vocab[Left(p)], vocab[Right(p)]));

        var merges = new List<(string, string)>();
        int target = options.VocabSize - specials;
        while (vocab.Count < target && heap.TryDequeue(out long pair, out var pri))
        {
            // Stale entry: every pair whose count changed was queued again with its new count.
            if (!pairCount.TryGetValue(pair, out long current) || current != pri.Count) continue;
            if (current < options.MinFrequency) break;
            int a = Left(pair), b = Right(pair);
            string merged = vocab[a] + vocab[b];
            if (ids.ContainsKey(merged))
            {
                // Another pair already made this string; drop this pair (a second rule would be dead weight).
                pairCount.Remove(pair);
                continue;
            }
            int newId = vocab.Count;
            ids[merged] = newId;
            vocab.Add(merged);
            merges.Add((vocab[a], vocab[b]));
            var affected = where[pair].ToArray();
            Array.Sort(affected);
            var touched = new HashSet<long>();
            foreach (int wi in affected)
            {
                var w = words[wi];
                AddPairs(w, wi, freq[wi], pairCount, where, -1, touched);
                words[wi] = w = MergeWord(w, a, b, newId);
                AddPairs(w, wi, freq[wi], pairCount, where, +1, touched);
            }
            foreach (var p in touched)
                if (pairCount.TryGetValue(p, out long c) && c > 0) heap.Enqueue(p, (c, vocab[Left(p)], vocab[Right(p)]));
        }

        var special = options.SpecialTokens.Select((s, i) => (s, vocab.Count + i)).ToList();
        return new TrainedBpe(vocab, merges, special, counts.Count);
    }

    private static int Left(long pair) => (int)(pair >> 32);
    private static int Right(long pair) => (int)(uint)pair;

    private static void AddPairs(int[] w, int wi, long f, Dictionary<long, long> pairCount, Dictionary<long, HashSet<int>> where, int sign, HashSet<long>? touched = null)
    {
        for (int i = 0; i + 1 < w.Length; i++)
        {
            long p = ((long)w[i] << 32) | (uint)w[i + 1];
            ref long c = ref CollectionsMarshal.GetValueRefOrAddDefault(pairCount, p, out _);
            c += sign * f;
            if (sign > 0)
            {
                if (!where.TryGetValue(p, out var set)) where[p] = set = new HashSet<int>();
                set.Add(wi);
            }
            else if (c <= 0)
            {
                pairCount.Remove(p);
                where.Remove(p);
            }
            touched?.Add(p);
        }
    }

    private static int[] MergeWord(int[] w, int a, int b, int newId)
    {
        var result = new List<int>(w.Length);
        for (int i = 0; i < w.Length; i++)
        {
            if (i + 1 < w.Length && w[i] == a && w[i + 1] == b) { result.Add(newId); i++; }
            else result.Add(w[i]);
        }
        return [.. result];
    }
}
