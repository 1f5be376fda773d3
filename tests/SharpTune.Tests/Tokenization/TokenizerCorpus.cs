using System.Text;
using System.Text.Json;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Tokenization;

/// <summary>The parity corpus: hand-picked texts (tests/data/tokenizer/corpus.jsonl) plus seeded random strings.</summary>
public static class TokenizerCorpus
{
    public static IReadOnlyList<string> Fixed()
    {
        var path = Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "tokenizer", "corpus.jsonl");
        return File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(SharpTune.IO.JsonLoneSurrogates.Replace(l)).RootElement.GetProperty("text").GetString()!).ToList();
    }

    // Pieces the random strings are built from: every class the pre-tokenizer regexes and the normalizers treat
    // differently. Code points are taken from blocks assigned long ago, so Unicode-version differences between
    // .NET and the Rust crates do not matter.
    private static readonly string[] Atoms =
    [
        " ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2009",
        "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'", "\"", "ſ",
        ",", ".", "!", "?", ";", ":", "-", "_", "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\", "|", "@", "#", "$", "%", "^", "&", "*", "+", "=", "~", "`",
        "≈", "…", "—", "«", "»", "€", "™", "°",
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<s>", "</s>", "<|eot_id|>", "<|begin_of_text|>", "<bos>", "<eos>", "<unk>", "<start_of_turn>",
        "\u0301", "\u0308", "\u0327", "\u20dd", "\u0903",
        "\u200d", "\ufe0f", "\u200b", "\ufeff", "\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\ufffd",
        "\ud800", "\udfff",
    ];

    private static readonly (int From, int To)[] Ranges =
    [
        ('a', 'z'), ('a', 'z'), ('a', 'z'), ('A', 'Z'), ('0', '9'), ('0', '9'),
        (0xC0, 0xFF), (0x100, 0x17F), (0x391, 0x3C9), (0x410, 0x44F), (0x5D0, 0x5EA), (0x627, 0x64A), (0x660, 0x669),
        (0x905, 0x939), (0x966, 0x96F), (0xE01, 0xE30), (0x3041, 0x3093), (0x30A1, 0x30F6), (0x4E00, 0x4FFF),
        (0xAC00, 0xAD00), (0x1100, 0x1112), (0x1161, 0x1175), (0xFF10, 0xFF5A), (0x2160, 0x216F), (0x2460, 0x2473),
        (0x1F600, 0x1F64F), (0x1F300, 0x1F3FF), (0x1D400, 0x1D4FF), (0x1F1E6, 0x1F1FF),
    ];

    /// <summary><paramref name="count"/> random strings from <paramref name="seed"/>.</summary>
    public static List<string> Random(int seed, int count)
    {
        var rng = new Random(seed);
        var list = new List<string>(count);
        for (int n = 0; n < count; n++)
        {
            var sb = new StringBuilder();
            int pieces = rng.Next(0, 30);
            for (int p = 0; p < pieces; p++)
            {
                if (rng.Next(3) == 0) sb.Append(Atoms[rng.Next(Atoms.Length)]);
                else
                {
                    var (from, to) = Ranges[rng.Next(Ranges.Length)];
                    int len = rng.Next(1, 8);
                    for (int k = 0; k < len; k++) sb.Append(char.ConvertFromUtf32(rng.Next(from, to + 1)));
                }
            }
            list.Add(sb.ToString());
        }
        return list;
    }
}
