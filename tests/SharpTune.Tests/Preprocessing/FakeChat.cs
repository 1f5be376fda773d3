using System.Text;
using SharpTune.Preprocessing;
using SharpTune.Text;

namespace SharpTune.Tests.Preprocessing;

/// <summary>A Qwen3-like ChatML renderer written in C#, for preprocessing tests that must not depend on the Jinja engine.</summary>
internal sealed class FakeChatMl(string? injectIntoGenerationPrompt = null) : IChatRenderer
{
    public bool IsCompletion => false;

    public string Render(IReadOnlyList<RenderMessage> messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?> kwargs)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            sb.Append("<|im_start|>").Append(m.Role).Append('\n');
            bool lastAssistant = m.Role == "assistant" && i == messages.Count - 1;
            if (lastAssistant) sb.Append("<think>\n\n</think>\n\n");
            sb.Append(m.Content.Trim()).Append("<|im_end|>\n");
        }
        if (addGenerationPrompt)
        {
            sb.Append(injectIntoGenerationPrompt).Append("<|im_start|>assistant\n");
            if (kwargs.TryGetValue("enable_thinking", out var t) && t is false) sb.Append("<think>\n\n</think>\n\n");
        }
        return sb.ToString();
    }
}

/// <summary>One token per character, special tokens whole; optional BOS id 1.</summary>
internal sealed class FakeCharTokenizer(bool withBos = false) : ITextTokenizer
{
    private static readonly string[] Specials = ["<s>", "<|im_start|>", "<|im_end|>", "</s>"];

    public IReadOnlySet<int> SpecialIds { get; } = new HashSet<int> { 1, 2, 3, 4 };
    public int? BosId => withBos ? 1 : null;
    public int? EosId => 4;

    public int[] Encode(string text, bool addSpecialTokens)
    {
        var ids = EncodeWithOffsets(text).Ids;
        return addSpecialTokens && withBos ? [1, .. ids] : ids;
    }

    public int? TokenToId(string token) =>
        Array.IndexOf(Specials, token) is var s and >= 0 ? s + 1 : token.Length == 1 ? 1000 + token[0] : null;

    public string? IdToToken(int id) => id >= 1000 ? ((char)(id - 1000)).ToString() : id >= 1 && id <= Specials.Length ? Specials[id - 1] : null;

    public (int[] Ids, CharSpan[] Offsets) EncodeWithOffsets(string text)
    {
        var ids = new List<int>();
        var offsets = new List<CharSpan>();
        int i = 0;
        while (i < text.Length)
        {
            int s = Array.FindIndex(Specials, sp => string.CompareOrdinal(text, i, sp, 0, sp.Length) == 0);
            if (s >= 0)
            {
                ids.Add(s + 1);
                offsets.Add(new CharSpan(i, i + Specials[s].Length));
                i += Specials[s].Length;
            }
            else
            {
                ids.Add(1000 + text[i]);
                offsets.Add(new CharSpan(i, i + 1));
                i++;
            }
        }
        return ([.. ids], [.. offsets]);
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var sb = new StringBuilder();
        foreach (var id in ids)
            if (id >= 1000) sb.Append((char)(id - 1000));
            else if (!skipSpecialTokens) sb.Append(Specials[id - 1]);
        return sb.ToString();
    }
}
