using System.Text;
using SharpTune.Text.Tokenization;

namespace SharpTune.Tests.Tokenization;

/// <summary>
/// Seeded fuzzing: mutated tokenizer.json files either load or fail with a <see cref="UserException"/> (never
/// another exception); random UTF-16 (lone surrogates, controls, marks) encodes with sane offsets and decodes.
/// </summary>
public sealed class TokenizerFuzzTests
{
    [Fact]
    public void MutatedTokenizerJsonLoadsOrFailsCleanly()
    {
        var rng = new Random(12345);
        var variants = new[]
        {
            TokenizerBadInputTests.TinyJson(),
            TokenizerBadInputTests.TinyJson(normalizer: "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKC\"},{\"type\":\"Prepend\",\"prepend\":\"_\"},{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"a+\"},\"content\":\"b\"}]}",
                preTokenizer: "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Metaspace\",\"replacement\":\"_\",\"prepend_scheme\":\"first\"},{\"type\":\"Digits\",\"individual_digits\":true}]}",
                decoder: "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0},{\"type\":\"Fuse\"}]}",
                post: "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<|x|>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{}}"),
        };
        string[] junk = ["", "null", "0", "-1", "\"\"", "[]", "{}", "\"x\"", "true", "1e99", "{\"type\":\"BPE\"}", "[\"a b\"]", "\"\\ud800\""];
        int loaded = 0, rejected = 0;
        for (int n = 0; n < 3000; n++)
        {
            var src = variants[n % variants.Length];
            string mutated = (n % 4) switch
            {
                0 => src[..rng.Next(src.Length)],
                1 => Flip(src, rng),
                2 => ReplaceValue(src, rng, junk),
                _ => src.Remove(rng.Next(src.Length), Math.Min(src.Length / 20, 1 + rng.Next(40)) is var k && k > 0 ? Math.Min(k, src.Length - 1) : 1),
            };
            try
            {
                var t = Tokenizer.FromJson(Encoding.UTF8.GetBytes(mutated), "fuzz.json");
                var enc = t.Encode("ab 12 <|x|> \u00e9\ud83d\ude00", true);
                foreach (var o in enc.Offsets) Assert.InRange(o.Start, 0, o.End);
                try { t.Decode(enc.Ids); } catch (UserException) { }
                loaded++;
            }
            catch (UserException)
            {
                rejected++;
            }
        }
        Assert.True(loaded > 100 && rejected > 100, $"loaded {loaded}, rejected {rejected}");
    }

    [Fact]
    public void RandomUtf16EncodesWithSaneOffsets()
    {
        var t = Tokenizer.FromJson(Encoding.UTF8.GetBytes(TokenizerBadInputTests.TinyJson(normalizer: "{\"type\":\"NFKC\"}")), "t.json");
        var nfkc = new UnicodeNormalizer(UnicodeNormalizationForm.NFKC);
        var rng = new Random(777);
        for (int n = 0; n < 3000; n++)
        {
            var chars = new char[rng.Next(0, 60)];
            for (int i = 0; i < chars.Length; i++)
                chars[i] = rng.Next(4) switch { 0 => (char)rng.Next(0, 128), 1 => (char)rng.Next(0xD7F0, 0xE010), 2 => (char)rng.Next(0x300, 0x370), _ => (char)rng.Next(0, 0x10000) };
            var text = new string(chars);
            var enc = t.Encode(text);
            int lastStart = 0;
            foreach (var o in enc.Offsets)
            {
                Assert.InRange(o.End, o.Start, text.Length);
                Assert.True(o.Start >= lastStart || o.Start == 0, "offsets go backwards");
                lastStart = o.Start;
            }
            var decoded = t.Decode(enc.Ids);
            Assert.Equal(Normalizers.Apply(nfkc, Tokenizer.ReplaceLoneSurrogates(text)), decoded);
        }
    }

    private static string Flip(string s, Random rng)
    {
        var c = s.ToCharArray();
        for (int i = 0; i < 1 + rng.Next(4); i++) c[rng.Next(c.Length)] = (char)rng.Next(32, 127);
        return new string(c);
    }

    private static string ReplaceValue(string s, Random rng, string[] junk)
    {
        // Replace the value after a random ':' with junk, up to the next ',' or '}'.
        int colon = s.IndexOf(':', rng.Next(s.Length));
        if (colon < 0) return s;
        int end = s.IndexOfAny([',', '}'], colon + 1);
        if (end < 0) end = s.Length;
        return s[..(colon + 1)] + junk[rng.Next(junk.Length)] + s[end..];
    }
}
