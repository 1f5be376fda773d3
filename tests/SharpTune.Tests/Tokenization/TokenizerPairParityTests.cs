using SharpTune.Text.Tokenization;

namespace SharpTune.Tests.Tokenization;

/// <summary>Pair encoding (TemplateProcessing's pair template, or plain concatenation) against the native HF binding.</summary>
public sealed class TokenizerPairParityTests
{
    public static TheoryData<string> Names => new(TokenizerOracle.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void PairsMatchHuggingFace(string name)
    {
        TokenizerOracle.Require();
        var path = TokenizerOracle.TokenizerPath(name);
        var tok = Tokenizer.Load(path);
        var texts = TokenizerCorpus.Fixed().Concat(TokenizerCorpus.Random(3, 150)).ToList();
        var pairs = texts.Select((t, i) => (t, texts[(i * 7 + 3) % texts.Count])).ToList();
        var expected = TokenizerOracle.Run(path, pairs.Select(p => "{\"text\":" + TokenizerOracle.JsonString(p.Item1) + ",\"pair\":" + TokenizerOracle.JsonString(p.Item2) + "}").ToList());
        var failures = new List<string>();
        for (int i = 0; i < pairs.Count; i++)
        {
            foreach (bool special in new[] { false, true })
            {
                string suffix = special ? "_special" : "";
                var enc = tok.EncodePair(pairs[i].Item1, pairs[i].Item2, special);
                var e = expected[i];
                var offsets = enc.GetCodePointOffsets(pairs[i].Item1, pairs[i].Item2).Select(o => (o.Start, o.End)).ToArray();
                if (!enc.Ids.SequenceEqual(TokenizerOracle.Ints(e.GetProperty("ids" + suffix)))
                    || !offsets.SequenceEqual(TokenizerOracle.Pairs(e.GetProperty("offsets" + suffix)))
                    || !enc.TypeIds.SequenceEqual(TokenizerOracle.Ints(e.GetProperty("type_ids" + suffix))))
                    failures.Add($"#{i} special={special}: want {e.GetProperty("ids" + suffix)} {e.GetProperty("offsets" + suffix)} {e.GetProperty("type_ids" + suffix)}\n  got {string.Join(",", enc.Ids)} {string.Join(",", offsets)} {string.Join(",", enc.TypeIds)}");
            }
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} mismatches:\n" + string.Join("\n", failures.Take(4)));
    }
}
