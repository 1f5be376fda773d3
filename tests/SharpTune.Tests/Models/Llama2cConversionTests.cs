using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

public class Llama2cConversionTests
{
    private const int Dim = 8, Hidden = 12, Layers = 2, Heads = 2, KvHeads = 1, Vocab = 6, SeqLen = 4;

    /// <summary>A llama2.c v0 file whose every float is its own index in the weight area (so positions are traceable).</summary>
    private static byte[] SyntheticCheckpoint(bool shared, out int[] partStarts)
    {
        int hd = Dim / Heads, kv = KvHeads * hd;
        int[] sizes = [Vocab * Dim, Layers * Dim, Layers * Dim * Dim, Layers * kv * Dim, Layers * kv * Dim, Layers * Dim * Dim, Layers * Dim,
            Layers * Hidden * Dim, Layers * Dim * Hidden, Layers * Hidden * Dim, Dim, SeqLen * hd, shared ? 0 : Vocab * Dim];
        partStarts = new int[sizes.Length];
        for (int i = 1; i < sizes.Length; i++) partStarts[i] = partStarts[i - 1] + sizes[i - 1];
        var floats = Enumerable.Range(0, sizes.Sum()).Select(i => (float)i).ToArray();
        int[] header = [Dim, Hidden, Layers, Heads, KvHeads, shared ? Vocab : -Vocab, SeqLen];
        return [.. MemoryMarshal.AsBytes(header.AsSpan()), .. MemoryMarshal.AsBytes(floats.AsSpan())];
    }

    private static float[] Floats(ITensorSource s, string name) => MemoryMarshal.Cast<byte, float>(s.GetBytes(name)).ToArray();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MapsLlama2cWeightsOntoHfNamesAndPermutesQk(bool shared)
    {
        using var dir = TestEnvironment.TempDir();
        File.WriteAllBytes(dir.File("m.bin"), SyntheticCheckpoint(shared, out var starts));
        var (config, w) = Llama2cCheckpoint.Read(dir.File("m.bin"));
        using (w)
        {
            Assert.Equal((Dim, Hidden, Layers, Heads, KvHeads, Dim / Heads, Vocab, SeqLen, shared),
                (config.HiddenSize, config.IntermediateSize, config.NumLayers, config.NumHeads, config.NumKvHeads, config.HeadDim, config.VocabSize, config.MaxPositionEmbeddings, config.TieWordEmbeddings));
            Assert.Equal(1e-5, config.RmsNormEps);
            Assert.Empty(CheckpointLayout.For(config).Validate(w, "m"));
            Assert.Equal(starts[0], Floats(w, "model.embed_tokens.weight")[0]);
            // Layer 1 of w1/w3/w2 → gate/up/down.
            Assert.Equal(starts[7] + Hidden * Dim, Floats(w, "model.layers.1.mlp.gate_proj.weight")[0]);
            Assert.Equal(starts[8] + Dim * Hidden, Floats(w, "model.layers.1.mlp.down_proj.weight")[0]);
            Assert.Equal(starts[9] + Hidden * Dim, Floats(w, "model.layers.1.mlp.up_proj.weight")[0]);
            Assert.Equal(starts[10], Floats(w, "model.norm.weight")[0]);
            if (!shared) Assert.Equal(starts[12], Floats(w, "lm_head.weight")[0]);
            // transformers' permute: view(h, hd/2, 2, dim).transpose(1, 2) — new row (h, j, i) is old row (h, i, j).
            int hd = Dim / Heads, half = hd / 2;
            var q = Floats(w, "model.layers.1.self_attn.q_proj.weight");
            for (int h = 0; h < Heads; h++)
                for (int j = 0; j < 2; j++)
                    for (int i = 0; i < half; i++)
                    {
                        int newRow = (h * 2 + j) * half + i, oldRow = (h * half + i) * 2 + j;
                        Assert.Equal(starts[2] + Dim * Dim + oldRow * Dim, q[newRow * Dim]);
                    }
            var k = Floats(w, "model.layers.0.self_attn.k_proj.weight");
            Assert.Equal(starts[3] + 2 * Dim, k[1 * Dim]); // head 0: new row 1 (j=0, i=1) is old row 2
            Assert.Equal(starts[4], Floats(w, "model.layers.0.self_attn.v_proj.weight")[0]); // v not permuted
        }
    }

    [Fact]
    public void BadCheckpointsAreUserErrors()
    {
        using var dir = TestEnvironment.TempDir();
        var good = SyntheticCheckpoint(true, out _);
        File.WriteAllBytes(dir.File("short.bin"), good[..^4]);
        Assert.Contains("implies", Assert.Throws<UserException>(() => Llama2cCheckpoint.Read(dir.File("short.bin"))).Message);
        File.WriteAllBytes(dir.File("v1.bin"), [.. Encoding.ASCII.GetBytes("24ka"), .. good[4..]]);
        Assert.Contains("version 1/2", Assert.Throws<UserException>(() => Llama2cCheckpoint.Read(dir.File("v1.bin"))).Message);
        var zero = (byte[])good.Clone();
        BitConverter.TryWriteBytes(zero.AsSpan(12, 4), 0);
        File.WriteAllBytes(dir.File("zero.bin"), zero);
        Assert.Contains("non-positive", Assert.Throws<UserException>(() => Llama2cCheckpoint.Read(dir.File("zero.bin"))).Message);
    }

    private static byte[] TokenizerBin(params (string Text, float Score)[] tokens)
    {
        using var ms = new MemoryStream();
        ms.Write(BitConverter.GetBytes(tokens.Max(t => Encoding.UTF8.GetByteCount(t.Text))));
        foreach (var (text, score) in tokens)
        {
            var b = Encoding.UTF8.GetBytes(text);
            ms.Write(BitConverter.GetBytes(score));
            ms.Write(BitConverter.GetBytes(b.Length));
            ms.Write(b);
        }
        return ms.ToArray();
    }

    [Fact]
    public void TokenizerPiecesAndMergesFollowTransformersConverter()
    {
        using var dir = TestEnvironment.TempDir();
        File.WriteAllBytes(dir.File("tok.bin"), TokenizerBin(("<unk>", 0), ("\n<s>\n", 0), ("\n</s>\n", 0), ("<0x0A>", 0),
            ("a", 0), ("b", 0), (" ", 0), ("ab", -1), (" a", -2), (" ab", -3)));
        var pieces = Llama2cTokenizer.ReadPieces(dir.File("tok.bin"), 10);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x0A>", "a", "b", "▁", "ab", "▁a", "▁ab"], pieces.Select(p => p.Piece));
        // Score first (highest), then the longer left part: "▁a b" before "▁ ab" though "▁ ab" comes first by ids.
        Assert.Equal([("a", "b"), ("▁", "a"), ("▁a", "b"), ("▁", "ab")], Llama2cTokenizer.Merges(pieces));

        using var json = JsonDocument.Parse(Llama2cTokenizer.TokenizerJson(pieces));
        var model = json.RootElement.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        Assert.True(model.GetProperty("byte_fallback").GetBoolean());
        Assert.Equal(9, model.GetProperty("vocab").GetProperty("▁ab").GetInt32());
        Assert.Equal(["a b", "▁ a", "▁a b", "▁ ab"], model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!));
        Assert.Equal(["<unk>", "<s>", "</s>"], json.RootElement.GetProperty("added_tokens").EnumerateArray().Select(t => t.GetProperty("content").GetString()!));

        Assert.Contains("bytes follow", Assert.Throws<UserException>(() => Llama2cTokenizer.ReadPieces(dir.File("tok.bin"), 9)).Message);
        Assert.Contains("ends at token 10", Assert.Throws<UserException>(() => Llama2cTokenizer.ReadPieces(dir.File("tok.bin"), 11)).Message);
    }

    [Fact]
    public void Stories260KConvertsValidatesAndReproducesLlama2cGreedyText()
    {
        var checkpoint = TestEnvironment.RequireShared("models/stories260K/stories260K.bin");
        var tokenizer = TestEnvironment.RequireShared("models/stories260K/tok512.bin");
        var expected = File.ReadAllText(TestEnvironment.RequireShared("models/stories260K/expected_greedy_200.txt"));
        using var dir = TestEnvironment.TempDir();
        var outDir = dir.File("stories260K");
        var (code, _, err) = TinyModelFiles.Cli("convert", "llama2c", "--checkpoint", checkpoint, "--tokenizer", tokenizer, "--out", outDir);
        Assert.True(code == 0, err);

        var config = ModelConfigJson.Load(outDir);
        Assert.Equal(ModelArchitecture.Llama, config.Architecture);
        Assert.Equal(260_032, CheckpointLayout.For(config).ParameterCount);
        using (var weights = SafetensorsCheckpoint.Open(outDir))
            Assert.Empty(CheckpointLayout.For(config).Validate(weights, outDir));
        var tokConfig = SharpTune.Text.TokenizerConfig.Load(Path.Combine(outDir, "tokenizer_config.json"));
        Assert.Equal(("<s>", "</s>", true), (tokConfig.BosToken, tokConfig.EosToken, tokConfig.AddBosToken));

        // The default generate command reproduces it too: a plain prompt ("") gets the tokenizer's BOS, as llama2.c
        // starts from BOS; 200 greedy tokens (issue 15: without the BOS it told a different story).
        var (gc, gout, gerr) = TinyModelFiles.Cli("generate", "--model", outDir, "--prompt", "", "--max-new-tokens", "200");
        Assert.True(gc == 0, gerr);
        Assert.Equal(expected.TrimEnd(), System.Text.Json.JsonDocument.Parse(gout).RootElement.GetProperty("text").GetString()!.TrimEnd());

        // An independent numpy Llama (rotate-half RoPE, as transformers) must reproduce llama2.c's run.c output,
        // which holds only if the wq/wk permutation and every weight mapping are right.
        bool python = File.Exists("/usr/bin/python3") && ProcessRunner.Run("/usr/bin/python3", ["-c", "import numpy"], timeoutMs: 60_000).Code == 0;
        TestEnvironment.RequireOracle(python, "/usr/bin/python3 with numpy (tests/setup/10-apt.sh)");
        var script = Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "llama_greedy_oracle.py");
        var (pc, stdout, stderr) = ProcessRunner.Run("/usr/bin/python3", [script, outDir, "200"], timeoutMs: 300_000);
        Assert.True(pc == 0, stderr);
        Assert.Equal(expected.TrimEnd(), stdout.TrimEnd());
    }

    [Fact]
    public void ConvertCliErrorsAreOneLine()
    {
        using var dir = TestEnvironment.TempDir();
        var (code, _, err) = TinyModelFiles.Cli("convert", "llama2c", "--checkpoint", dir.File("none.bin"), "--tokenizer", dir.File("t.bin"), "--out", dir.File("o"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--checkpoint: file not found", err);
        File.WriteAllBytes(dir.File("m.bin"), SyntheticCheckpoint(true, out _));
        File.WriteAllBytes(dir.File("t.bin"), TokenizerBin(("<unk>", 0), ("\n<s>\n", 0)));
        (code, _, err) = TinyModelFiles.Cli("convert", "llama2c", "--checkpoint", dir.File("m.bin"), "--tokenizer", dir.File("t.bin"), "--out", dir.File("o"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("ends at token 2 of 6", err);
        Assert.False(Directory.Exists(dir.File("o")));
    }
}
