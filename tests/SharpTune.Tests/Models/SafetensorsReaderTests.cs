using System.Runtime.InteropServices;
using System.Text;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Numerics;

using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

public class SafetensorsReaderTests
{
    /// <summary>Raw file bytes: 8-byte length, the header text as given, then <paramref name="dataLength"/> data bytes.</summary>
    internal static byte[] RawFile(string header, int dataLength, ulong? declaredLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataLength];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), declaredLength ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        for (int i = 0; i < dataLength; i++) bytes[8 + h.Length + i] = (byte)(i * 7);
        return bytes;
    }

    private static InMemoryTensorSource Sample(int seed)
    {
        var rng = new Random(seed);
        var src = new InMemoryTensorSource();
        var f32 = Enumerable.Range(0, 15).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        src.Add("a.f32", [3, 5], f32);
        var bf16 = Enumerable.Range(0, 7).Select(_ => BFloat16.FromSingle((float)rng.NextDouble() * 100)).ToArray();
        src.Add("b.bf16", TensorDType.BF16, [7], MemoryMarshal.AsBytes(bf16.AsSpan()));
        var f16 = Enumerable.Range(0, 6).Select(_ => (Half)(rng.NextDouble() * 4 - 2)).ToArray();
        src.Add("c.f16", TensorDType.F16, [2, 1, 3], MemoryMarshal.AsBytes(f16.AsSpan()));
        src.Add("d.scalar", [], [42f]);
        src.Add("e.empty", [0, 4], ReadOnlySpan<float>.Empty);
        return src;
    }

    private static void AssertSame(ITensorSource expected, ITensorSource actual)
    {
        Assert.Equal(expected.Names.Order(StringComparer.Ordinal), actual.Names.Order(StringComparer.Ordinal));
        foreach (var n in expected.Names)
        {
            Assert.True(expected.TryGetInfo(n, out var e));
            Assert.True(actual.TryGetInfo(n, out var a));
            Assert.Equal(e.DType, a.DType);
            Assert.Equal(e.Shape, a.Shape);
            Assert.True(expected.GetBytes(n).SequenceEqual(actual.GetBytes(n)), n);
        }
    }

    [Fact]
    public void RoundTripsF32Bf16F16ScalarAndEmptyTensors()
    {
        using var dir = TestEnvironment.TempDir();
        using var src = Sample(1);
        SafetensorsWriter.Write(dir.File("m.safetensors"), src, new Dictionary<string, string> { ["format"] = "pt" });
        using var r = SafetensorsReader.Open(dir.File("m.safetensors"));
        AssertSame(src, r);
        Assert.Equal("pt", r.Metadata["format"]);
        Assert.Equal(src.Names, r.Names); // file order = write order
        var f16 = MemoryMarshal.Cast<byte, Half>(r.GetBytes("c.f16"));
        Assert.Equal(6, f16.Length);
        Assert.Throws<KeyNotFoundException>(() => r.GetBytes("nope"));
        Assert.False(r.TryGetInfo("nope", out _));
    }

    [Fact]
    public void ReleasedTensorsReadTheSameBytesAgain()
    {
        using var dir = TestEnvironment.TempDir();
        var big = new InMemoryTensorSource();
        var values = Enumerable.Range(0, 50_000).Select(i => (float)Math.Sin(i)).ToArray(); // spans whole pages
        big.Add("big", [50_000], values);
        big.Add("small", [3], [1f, 2f, 3f]);
        SafetensorsWriter.Write(dir.File("m.safetensors"), big);
        using var reader = SafetensorsReader.Open(dir.File("m.safetensors"));
        var before = reader.GetBytes("big").ToArray();
        reader.Release("big");
        reader.Release("unknown"); // a hint: unknown names are ignored
        Assert.Equal(before, reader.GetBytes("big").ToArray());
        Assert.Equal([1f, 2f, 3f], reader.ReadSingles("small"));
    }

    [Fact]
    public void HeaderIsPaddedToEightBytes()
    {
        using var dir = TestEnvironment.TempDir();
        using var src = Sample(2);
        SafetensorsWriter.Write(dir.File("m.safetensors"), src);
        var bytes = File.ReadAllBytes(dir.File("m.safetensors"));
        Assert.Equal(0UL, BitConverter.ToUInt64(bytes, 0) % 8);
    }

    [Fact]
    public void ShardedCheckpointReadsAsOneSource()
    {
        using var dir = TestEnvironment.TempDir();
        using var src = Sample(3);
        var files = SafetensorsWriter.WriteSharded(dir.Path, src, maxShardBytes: 40);
        Assert.True(files.Count >= 2, $"{files.Count} shards");
        using var sharded = SafetensorsCheckpoint.Open(dir.Path);
        Assert.IsType<ShardedSafetensorsSource>(sharded);
        AssertSame(src, sharded);
        Assert.Equal(files.Count, ((ShardedSafetensorsSource)sharded).ShardPaths.Count);
    }

    [Fact]
    public void ShardedIndexErrorsNameTheProblem()
    {
        using var dir = TestEnvironment.TempDir();
        using var src = Sample(4);
        SafetensorsWriter.WriteSharded(dir.Path, src, maxShardBytes: 40);
        var index = dir.File(SafetensorsCheckpoint.IndexFileName);
        var good = File.ReadAllText(index);

        File.WriteAllText(index, good.Replace("\"a.f32\"", "\"zz.f32\""));
        Assert.Contains("'zz.f32' is mapped to", Assert.Throws<UserException>(() => (object)ShardedSafetensorsSource.Open(index)).Message);

        File.WriteAllText(index, good.Replace("model-00001-of", "../model-00001-of"));
        Assert.Contains("plain file name", Assert.Throws<UserException>(() => (object)ShardedSafetensorsSource.Open(index)).Message);

        File.WriteAllText(index, good.Replace("model-00001-of", "missing-00001-of"));
        Assert.Contains("does not exist", Assert.Throws<UserException>(() => (object)ShardedSafetensorsSource.Open(index)).Message);

        File.WriteAllText(index, """{"weight_map": {"b.bf16": "model-00002-of-00002.safetensors"}}""");
        Assert.Contains("not listed", Assert.Throws<UserException>(() => (object)ShardedSafetensorsSource.Open(index)).Message);

        File.WriteAllText(index, "{\"weight_map\": 3}");
        Assert.Contains("weight_map", Assert.Throws<UserException>(() => (object)ShardedSafetensorsSource.Open(index)).Message);
    }

    public static TheoryData<string, int, string> BadHeaders() => new()
    {
        { "[1]", 0, "does not start with '{'" },
        { "{\"a\": ", 0, "not valid JSON" },
        { "{\"a\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8, "dtype 'F64' is not supported" },
        { "{\"a\": {\"dtype\": \"I8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1, "'a'" },
        { "{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "missing string field 'dtype'" },
        { "{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4, "missing list field 'shape'" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4, "shape[0] must be a non-negative integer" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4, "shape[0]" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4, "list of two integers" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]}}", 4, "end before they begin" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4, "run past the end of the data area" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4, "needs 8 bytes but data_offsets [0, 4] hold 4" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 4]}}", 4, "'a'" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "overlaps tensor 'a'" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "starts at byte 4" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 8, "cover 4 bytes of a 8-byte data area" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4, "names 'a' twice" },
        { "{\"__metadata__\": {\"format\": 1}}", 0, "__metadata__ entry 'format' must be a string" },
        { "{\"__metadata__\": [\"x\"]}", 0, "__metadata__ must be an object" },
        { "{\"a\": 5}", 0, "tensor 'a': expected an object" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void EveryHeaderProblemIsAUserErrorNamingFileAndTensor(string header, int dataLength, string expected)
    {
        using var dir = TestEnvironment.TempDir();
        var path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, RawFile(header, dataLength));
        var e = Assert.Throws<UserException>(() => (object)SafetensorsReader.Open(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void HeaderLengthIsBounded()
    {
        using var dir = TestEnvironment.TempDir();
        var path = dir.File("x.safetensors");
        File.WriteAllBytes(path, RawFile("{}", 0, declaredLength: 100_000_001));
        Assert.Contains("exceeds the 100000000-byte limit", Assert.Throws<UserException>(() => (object)SafetensorsReader.Open(path)).Message);
        File.WriteAllBytes(path, RawFile("{}", 0, declaredLength: 50));
        Assert.Contains("runs past the end", Assert.Throws<UserException>(() => (object)SafetensorsReader.Open(path)).Message);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<UserException>(() => (object)SafetensorsReader.Open(path)).Message);
    }

    [Fact]
    public void EmptyHeaderIsAValidEmptyFile()
    {
        using var dir = TestEnvironment.TempDir();
        var path = dir.File("e.safetensors");
        File.WriteAllBytes(path, RawFile("{}      ", 0));
        using (var r = SafetensorsReader.Open(path)) Assert.Empty(r.Names);
        File.WriteAllBytes(path, RawFile("{\"__metadata__\": null}", 0)); // Option<map> in the reference implementation
        using (var r = SafetensorsReader.Open(path)) Assert.Empty(r.Metadata);
    }

    [Theory]
    [InlineData("pytorch_model.bin")]
    [InlineData("model.pt")]
    [InlineData("consolidated.pth")]
    public void PickleCheckpointsAreRefusedWithAPointerToSafetensors(string file)
    {
        using var dir = TestEnvironment.TempDir();
        File.WriteAllBytes(dir.File(file), [0x80, 0x02]);
        var e = Assert.Throws<UserException>(() => (object)SafetensorsCheckpoint.Open(dir.Path));
        Assert.Contains(file, e.Message);
        Assert.Contains("pickle", e.Message);
        Assert.Contains("safetensors", e.Message);
        Assert.Contains("pickle", Assert.Throws<UserException>(() => (object)SafetensorsCheckpoint.Open(dir.File(file))).Message);
    }

    [Fact]
    public void FolderWithoutWeightsSaysWhatIsMissing()
    {
        using var dir = TestEnvironment.TempDir();
        Assert.Contains("no model.safetensors or model.safetensors.index.json", Assert.Throws<UserException>(() => (object)SafetensorsCheckpoint.Open(dir.Path)).Message);
        Assert.Contains("no such model folder", Assert.Throws<UserException>(() => (object)SafetensorsCheckpoint.Open(dir.File("nope"))).Message);
    }

    [Fact]
    public void DisposedReaderRefusesReads()
    {
        using var dir = TestEnvironment.TempDir();
        using var src = Sample(5);
        SafetensorsWriter.Write(dir.File("m.safetensors"), src);
        var r = SafetensorsReader.Open(dir.File("m.safetensors"));
        r.Dispose();
        Assert.Throws<ObjectDisposedException>(() => r.GetBytes("a.f32"));
        r.Dispose();
    }
}

public class TensorSourceExtensionsTests
{
    [Fact]
    public void WidensEveryDtypeToSingle()
    {
        using var src = new InMemoryTensorSource();
        src.Add("f", [3], [1.5f, -2f, 3.25f]);
        ushort[] bf = [0x3FC0, 0xC000, 0x4050]; // 1.5, -2, 3.25 as bfloat16 bits
        src.Add("b", TensorDType.BF16, [3], MemoryMarshal.AsBytes(bf.AsSpan()));
        Half[] h = [(Half)1.5f, (Half)(-2f), (Half)3.25f];
        src.Add("h", TensorDType.F16, [3], MemoryMarshal.AsBytes(h.AsSpan()));
        foreach (var n in (string[])["f", "b", "h"]) Assert.Equal([1.5f, -2f, 3.25f], src.ReadSingles(n));
        Assert.Throws<ArgumentException>(() => src.CopyToSingle("f", new float[2]));
        Assert.Throws<KeyNotFoundException>(() => src.ReadSingles("x"));
    }
}
