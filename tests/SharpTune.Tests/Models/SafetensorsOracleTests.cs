using System.Runtime.InteropServices;
using System.Text.Json;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Numerics;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

/// <summary>
/// Format parity with an independent safetensors implementation (tests/oracles/python/safetensors_oracle.py,
/// numpy + torch 1.13 under /usr/bin/python3): files it writes read back the same values here, and files SharpTune
/// writes (including an init-model folder) parse there to the same values.
/// </summary>
public class SafetensorsOracleTests
{
    private const string Python = "/usr/bin/python3";
    private static readonly string Script = Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "safetensors_oracle.py");

    private static void RequirePython()
    {
        bool present = File.Exists(Python) && ProcessRunner.Run(Python, ["-c", "import torch, numpy"], timeoutMs: 120_000).Code == 0;
        TestEnvironment.RequireOracle(present, "/usr/bin/python3 with torch and numpy (tests/setup/10-apt.sh)");
    }

    private static JsonElement RunOracle(params string[] args)
    {
        var (code, stdout, stderr) = ProcessRunner.Run(Python, [Script, .. args], timeoutMs: 120_000);
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement;
    }

    private static double[] Widen(ITensorSource src, string name)
    {
        Assert.True(src.TryGetInfo(name, out var info));
        var bytes = src.GetBytes(name);
        return info.DType switch
        {
            TensorDType.F32 => MemoryMarshal.Cast<byte, float>(bytes).ToArray().Select(x => (double)x).ToArray(),
            TensorDType.F16 => MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(x => (double)x).ToArray(),
            _ => MemoryMarshal.Cast<byte, ushort>(bytes).ToArray().Select(x => (double)BFloat16.ToSingle(x)).ToArray(),
        };
    }

    private static void AssertMatches(JsonElement oracle, ITensorSource src)
    {
        var tensors = oracle.GetProperty("tensors");
        Assert.Equal(src.Names.Order(StringComparer.Ordinal), tensors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var t in tensors.EnumerateObject())
        {
            Assert.True(src.TryGetInfo(t.Name, out var info));
            Assert.Equal(t.Value.GetProperty("dtype").GetString(), info.DType.SafetensorsName());
            Assert.Equal(t.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), info.Shape);
            var expected = t.Value.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(expected, Widen(src, t.Name));
        }
    }

    [Fact]
    public void ReadsFilesWrittenByTheOracle()
    {
        RequirePython();
        using var dir = TestEnvironment.TempDir();
        var path = dir.File("oracle.safetensors");
        var oracle = RunOracle("write", path, "11");
        using var r = SafetensorsReader.Open(path);
        AssertMatches(oracle, r);
        Assert.Equal("oracle", r.Metadata["writer"]);
    }

    [Fact]
    public void OracleParsesWhatSharpTuneWrites()
    {
        RequirePython();
        using var dir = TestEnvironment.TempDir();
        var tok = TinyModelFiles.WriteTokenizer(dir.File("tok"));
        foreach (var (arch, dtype) in new[] { ("qwen2", "f32"), ("qwen3", "bf16") })
        {
            var outDir = dir.File($"{arch}-{dtype}");
            Assert.Equal(0, TinyModelFiles.Cli(TinyModelFiles.InitArgs(arch, tok, outDir, "5", "--dtype", dtype)).Code);
            var oracle = RunOracle("read", Path.Combine(outDir, "model.safetensors"));
            using var r = SafetensorsCheckpoint.Open(outDir);
            AssertMatches(oracle, r);
            Assert.Equal("pt", oracle.GetProperty("metadata").GetProperty("format").GetString());
        }
    }
}
