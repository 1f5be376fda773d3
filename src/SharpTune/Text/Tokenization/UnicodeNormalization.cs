namespace SharpTune.Text.Tokenization;

/// <summary>The four Unicode normalization forms.</summary>
public enum UnicodeNormalizationForm
{
    /// <summary>Canonical composition.</summary>
    NFC,

    /// <summary>Canonical decomposition.</summary>
    NFD,

    /// <summary>Compatibility composition.</summary>
    NFKC,

    /// <summary>Compatibility decomposition.</summary>
    NFKD,
}

/// <summary>
/// Unicode normalization on SharpTune's own tables (<see cref="UnicodeNormalizationData"/>), because .NET's
/// string.Normalize does nothing under InvariantGlobalization. Works on segments (a starter and the marks that
/// follow it), so a caller can keep track of which input each output code point came from.
/// </summary>
internal static class UnicodeNormalization
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Dictionary<int, byte> Ccc = new();
    private static readonly Dictionary<int, (bool Compat, int[] Cps)> Decomp = new();
    private static readonly Dictionary<long, int> Comp = new();
    private static readonly HashSet<int> ComposeSecond = new();
    // Per form and BMP code point, filled lazily: 0 unknown, 1 stable (left as it is by that form and never
    // combining with what precedes it), 2 not stable. Single-byte writes of a deterministic value: no lock needed.
    private static readonly byte[][] StableBmp = [new byte[0x10000], new byte[0x10000], new byte[0x10000], new byte[0x10000]];

    static UnicodeNormalization()
    {
        var c = UnicodeNormalizationData.CombiningClasses;
        for (int i = 0; i < c.Length; i += 2) Ccc[c[i]] = (byte)c[i + 1];
        var d = UnicodeNormalizationData.Decompositions;
        for (int i = 0; i < d.Length;)
        {
            int cp = d[i], flags = d[i + 1], n = flags >> 1;
            Decomp[cp] = ((flags & 1) != 0, d.Slice(i + 2, n).ToArray());
            i += 2 + n;
        }
        var p = UnicodeNormalizationData.Compositions;
        for (int i = 0; i < p.Length; i += 3)
        {
            Comp[((long)p[i] << 21) | (uint)p[i + 1]] = p[i + 2];
            ComposeSecond.Add(p[i + 1]);
        }
        for (int v = VBase; v < VBase + VCount; v++) ComposeSecond.Add(v);
        for (int t = TBase + 1; t < TBase + TCount; t++) ComposeSecond.Add(t);
    }

    public static int CombiningClass(int cp) => Ccc.TryGetValue(cp, out var v) ? v : 0;

    /// <summary>Whether <paramref name="cp"/> is unchanged by <paramref name="form"/> in any context.</summary>
    public static bool IsStable(int cp, UnicodeNormalizationForm form)
    {
        if (cp >= 0x10000) return ComputeStable(cp, form);
        var table = StableBmp[(int)form];
        byte v = table[cp];
        if (v == 0) table[cp] = v = ComputeStable(cp, form) ? (byte)1 : (byte)2;
        return v == 1;
    }

    /// <summary>Whether <paramref name="cp"/> starts a new normalization segment.</summary>
    public static bool StartsSegment(int cp) => CombiningClass(cp) == 0 && !ComposeSecond.Contains(cp);

    private static bool ComputeStable(int cp, UnicodeNormalizationForm form)
    {
        if (cp >= 0xD800 && cp <= 0xDFFF) return true;
        if (!StartsSegment(cp)) return false;
        bool compat = form is UnicodeNormalizationForm.NFKC or UnicodeNormalizationForm.NFKD;
        bool compose = form is UnicodeNormalizationForm.NFC or UnicodeNormalizationForm.NFKC;
        bool decomposes = (cp >= SBase && cp < SBase + SCount) || (Decomp.TryGetValue(cp, out var d) && (compat || !d.Compat));
        if (!decomposes) return true;
        if (!compose) return false;
        var list = new List<int>();
        NormalizeSegment([cp], form, list);
        return list.Count == 1 && list[0] == cp;
    }

    /// <summary>Normalizes one segment of code points, appending the result to <paramref name="output"/>.</summary>
    /// <remarks>
    /// <paramref name="weights"/> receives, per output code point, how many input code points it consumes, which
    /// is how Hugging Face's alignment crate tracks changes: the first part of a decomposition consumes its input,
    /// the other parts none (they are insertions); reordering moves characters with their weights; a composition
    /// adds its mark's weight to its starter's. Aligning outputs to inputs in sequence by these weights gives
    /// HF's offsets.
    /// </remarks>
    public static void NormalizeSegment(ReadOnlySpan<int> input, UnicodeNormalizationForm form, List<int> output, List<int>? weights = null)
    {
        weights ??= new List<int>();
        output.Clear();
        weights.Clear();
        bool compat = form is UnicodeNormalizationForm.NFKC or UnicodeNormalizationForm.NFKD;
        for (int k = 0; k < input.Length; k++)
        {
            int before = output.Count;
            Decompose(input[k], compat, output);
            for (int j = before; j < output.Count; j++) weights.Add(j == before ? 1 : 0);
        }
        // Canonical ordering: stable sort of each run of non-starters by combining class.
        for (int i = 1; i < output.Count; i++)
        {
            int cc = CombiningClass(output[i]);
            if (cc == 0) continue;
            int j = i;
            int cur = output[i], w = weights[i];
            while (j > 0 && CombiningClass(output[j - 1]) > cc) { output[j] = output[j - 1]; weights[j] = weights[j - 1]; j--; }
            output[j] = cur;
            weights[j] = w;
        }
        if (form is UnicodeNormalizationForm.NFC or UnicodeNormalizationForm.NFKC) Compose(output, weights);
    }

    private static void Decompose(int cp, bool compat, List<int> output)
    {
        if (cp >= SBase && cp < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if (Decomp.TryGetValue(cp, out var d) && (compat || !d.Compat))
        {
            foreach (var x in d.Cps) Decompose(x, compat, output);
            return;
        }
        output.Add(cp);
    }

    private static void Compose(List<int> s, List<int> weights)
    {
        const int first = 0;
        if (s.Count - first < 2) return;
        int starter = first;
        int write = first + 1;
        int lastCc = CombiningClass(s[first]) == 0 ? 0 : 256;
        if (lastCc != 0) starter = -1;
        for (int read = first + 1; read < s.Count; read++)
        {
            int cp = s[read];
            int cc = CombiningClass(cp);
            if (starter >= 0 && (lastCc < cc || (lastCc == 0 && write == starter + 1)))
            {
                int composed = ComposePair(s[starter], cp);
                if (composed >= 0)
                {
                    s[starter] = composed;
                    weights[starter] += weights[read];
                    continue;
                }
            }
            if (cc == 0) { starter = write; lastCc = 0; }
            else lastCc = cc;
            weights[write] = weights[read];
            s[write++] = cp;
        }
        s.RemoveRange(write, s.Count - write);
        weights.RemoveRange(write, weights.Count - write);
    }

    private static int ComposePair(int a, int b)
    {
        if (a >= LBase && a < LBase + LCount && b >= VBase && b < VBase + VCount)
            return SBase + ((a - LBase) * VCount + (b - VBase)) * TCount;
        if (a >= SBase && a < SBase + SCount && (a - SBase) % TCount == 0 && b > TBase && b < TBase + TCount)
            return a + (b - TBase);
        return Comp.TryGetValue(((long)a << 21) | (uint)b, out var c) ? c : -1;
    }
}
