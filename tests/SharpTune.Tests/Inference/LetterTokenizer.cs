using SharpTune.Text;

namespace SharpTune.Tests.Inference;

/// <summary>
/// One character per id ('a' + id % 26); encodes lowercase letters back to ids (other characters are dropped), with
/// id 50 as BOS when special tokens are added. Records every text it encodes, so a test can see the exact prompt.
/// </summary>
internal sealed class LetterTokenizer : ITextTokenizer
{
    public List<string> EncodedTexts { get; } = [];

    /// <summary>The addSpecialTokens argument of every Encode call, in order.</summary>
    public List<bool> SpecialFlags { get; } = [];

    public IReadOnlySet<int> SpecialIds { get; } = new HashSet<int> { 50, 52 };
    public int? BosId => 50;
    public int? EosId => 52;

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var c = new char[ids.Length];
        for (int i = 0; i < ids.Length; i++) c[i] = (char)('a' + ids[i] % 26);
        return new string(c);
    }

    public int[] Encode(string text, bool addSpecialTokens)
    {
        lock (EncodedTexts) { EncodedTexts.Add(text); SpecialFlags.Add(addSpecialTokens); }
        return (addSpecialTokens ? [50] : Array.Empty<int>()).Concat(text.Where(ch => ch is >= 'a' and <= 'z').Select(ch => ch - 'a')).ToArray();
    }

    public (int[] Ids, CharSpan[] Offsets) EncodeWithOffsets(string text)
    {
        var ids = new List<int>();
        var offsets = new List<CharSpan>();
        for (int i = 0; i < text.Length; i++)
            if (text[i] is >= 'a' and <= 'z') { ids.Add(text[i] - 'a'); offsets.Add(new CharSpan(i, i + 1)); }
        return ([.. ids], [.. offsets]);
    }

    public int? TokenToId(string token) => token.Length == 1 && token[0] is >= 'a' and <= 'z' ? token[0] - 'a' : null;

    public string? IdToToken(int id) => ((char)('a' + id % 26)).ToString();
}
