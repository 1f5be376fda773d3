using System.Text;
using SharpTune.Text.Tokenization;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Tokenization;

/// <summary>
/// Ids, offsets (in code points) and decodes identical to the native HF binding on the five npm tokenizers,
/// over the fixed corpus and 3,000 seeded random strings, with and without special tokens.
/// </summary>
public sealed class TokenizerParityTests
{
    public static TheoryData<string> Names => new(TokenizerOracle.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void EncodeAndDecodeMatchHuggingFace(string name)
    {
        TokenizerOracle.Require();
        var path = TokenizerOracle.TokenizerPath(name);
        var tokenizer = Tokenizer.Load(path);
        var texts = TokenizerCorpus.Fixed().Concat(TokenizerCorpus.Random(20261122, 3000)).ToList();
        var expected = TokenizerOracle.Run(path, texts.Select(TokenizerOracle.TextRequest).Append("{\"info\":true}").ToList());
        Assert.Equal(expected[^1].GetProperty("vocab_size").GetInt32(), tokenizer.VocabSize);

        var failures = new List<string>();
        int checkedTokens = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            var text = texts[i];
            var e = expected[i];
            foreach (bool special in new[] { false, true })
            {
                var enc = tokenizer.Encode(text, special);
                var wantIds = TokenizerOracle.Ints(e.GetProperty(special ? "ids_special" : "ids"));
                var wantOffsets = TokenizerOracle.Pairs(e.GetProperty(special ? "offsets_special" : "offsets"));
                var gotOffsets = enc.GetCodePointOffsets(text).Select(o => (o.Start, o.End)).ToArray();
                checkedTokens += wantIds.Length;
                if (!enc.Ids.SequenceEqual(wantIds))
                    failures.Add($"#{i} special={special} ids differ for {TokenizerOracle.JsonString(text)}\n  want {string.Join(",", wantIds)}\n  got  {string.Join(",", enc.Ids)}");
                else if (!gotOffsets.SequenceEqual(wantOffsets))
                    failures.Add($"#{i} special={special} offsets differ for {TokenizerOracle.JsonString(text)}\n  want {string.Join(",", wantOffsets)}\n  got  {string.Join(",", gotOffsets)}");
            }
            var ids = TokenizerOracle.Ints(e.GetProperty("ids"));
            var idsSpecial = TokenizerOracle.Ints(e.GetProperty("ids_special"));
            Check(failures, i, "decode", e.GetProperty("decode").GetString()!, tokenizer.Decode(ids));
            Check(failures, i, "decode_special", e.GetProperty("decode_special").GetString()!, tokenizer.Decode(idsSpecial));
            Check(failures, i, "decode_special_skip", e.GetProperty("decode_special_skip").GetString()!, tokenizer.Decode(idsSpecial, skipSpecialTokens: true));
        }
        Assert.True(checkedTokens > texts.Count, "the oracle produced almost no tokens");
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} mismatches over {texts.Count} texts; first ones:\n" + string.Join("\n", failures.Take(8)));
    }

    /// <summary>Prompts built from the real MovieLens titles and genres (../shared/data; skipped when absent).</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void MovieLensPromptsMatchHuggingFace(string name)
    {
        var movies = TestEnvironment.RequireShared(Path.Combine("data", "ml-latest-small", "movies.csv"));
        TokenizerOracle.Require();
        var lines = File.ReadAllLines(movies).Skip(1).ToList();
        var rng = new Random(4);
        var texts = Enumerable.Range(0, 400).Select(i =>
        {
            var picks = Enumerable.Range(0, 6).Select(_ => lines[rng.Next(lines.Count)].Split(',', 2)[1]).ToList();
            return $"<|im_start|>user\nUser {i} rated:\n" + string.Join("\n", picks.Select(p => $"- {p} ≈ {rng.Next(1, 11) / 2.0:0.0}"))
                + "\nPredict the next rating.<|im_end|>\n<|im_start|>assistant\n";
        }).ToList();
        var path = TokenizerOracle.TokenizerPath(name);
        var tokenizer = Tokenizer.Load(path);
        var expected = TokenizerOracle.Run(path, texts.Select(TokenizerOracle.TextRequest).ToList());
        for (int i = 0; i < texts.Count; i++)
        {
            var enc = tokenizer.Encode(texts[i], true);
            Assert.Equal(TokenizerOracle.Ints(expected[i].GetProperty("ids_special")), enc.Ids);
            Assert.Equal(TokenizerOracle.Pairs(expected[i].GetProperty("offsets_special")), enc.GetCodePointOffsets(texts[i]).Select(o => (o.Start, o.End)).ToArray());
            Assert.Equal(expected[i].GetProperty("decode_special").GetString(), tokenizer.Decode(enc.Ids));
        }
    }

    private static void Check(List<string> failures, int i, string what, string want, string got)
    {
        if (want != got) failures.Add($"#{i} {what} differs\n  want {TokenizerOracle.JsonString(want)}\n  got  {TokenizerOracle.JsonString(got)}");
    }
}
