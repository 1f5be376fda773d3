using System.Text;
using SharpTune.Models;
using SharpTune.Models.Safetensors;

using SharpTune.Numerics;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

/// <summary>
/// Seeded fuzzing of the safetensors reader: random headers, mutated valid files and random length prefixes must
/// either open (and then every tensor's bytes lie inside the file) or fail with a <see cref="UserException"/> —
/// never another exception, a crash or a hang.
/// </summary>
public class SafetensorsFuzzTests
{
    private static readonly string[] Fragments =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\"a\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"",
        "\"F32\"", "\"BF16\"", "\"F16\"", "\"F64\"", "0", "1", "4", "-1", "1e3", "9223372036854775807", "18446744073709551616",
        "null", "true", " ", "\\u0000", "\"\\ud800\"", "1.5",
    ];

    private static byte[] ValidFile(Random rng)
    {
        var src = new InMemoryTensorSource();
        int n = rng.Next(1, 5);
        for (int i = 0; i < n; i++)
        {
            var dtype = (TensorDType)rng.Next(3);
            long[] shape = Enumerable.Range(0, rng.Next(0, 3)).Select(_ => (long)rng.Next(0, 4)).ToArray();
            var info = new TensorInfo($"t{i}", dtype, shape);
            var data = new byte[info.ByteLength];
            rng.NextBytes(data);
            src.Add(info.Name, dtype, shape, data);
        }
        var header = SafetensorsWriter.BuildHeader(src.Names.Select(x => { src.TryGetInfo(x, out var inf); return inf; }).ToList(), null);
        using var ms = new MemoryStream();
        ms.Write(BitConverter.GetBytes((ulong)header.Length));
        ms.Write(header);
        foreach (var name in src.Names) ms.Write(src.GetBytes(name));
        return ms.ToArray();
    }

    private static byte[] Mutate(byte[] file, Random rng)
    {
        var b = (byte[])file.Clone();
        switch (rng.Next(5))
        {
            case 0: // flip bytes anywhere, mostly in the header
                for (int k = rng.Next(1, 4); k > 0; k--) b[rng.Next(Math.Min(b.Length, 8 + 200))] ^= (byte)(1 << rng.Next(8));
                return b;
            case 1: // truncate
                return b[..rng.Next(b.Length)];
            case 2: // append junk
                return [.. b, .. Enumerable.Range(0, rng.Next(1, 9)).Select(_ => (byte)rng.Next(256))];
            case 3: // replace a digit in the header
            {
                int len = (int)Math.Min(BitConverter.ToUInt64(b, 0), (ulong)b.Length - 8);
                var digits = Enumerable.Range(8, len).Where(i => b[i] is >= (byte)'0' and <= (byte)'9').ToList();
                if (digits.Count > 0) b[digits[rng.Next(digits.Count)]] = (byte)('0' + rng.Next(10));
                return b;
            }
            default: // rewrite the length prefix
                BitConverter.TryWriteBytes(b.AsSpan(0, 8), rng.Next(3) == 0 ? (ulong)rng.NextInt64() : (ulong)rng.Next(b.Length + 16));
                return b;
        }
    }

    private static byte[] RandomHeaderFile(Random rng)
    {
        var sb = new StringBuilder();
        int parts = rng.Next(1, 40);
        for (int i = 0; i < parts; i++) sb.Append(Fragments[rng.Next(Fragments.Length)]);
        return SafetensorsReaderTests.RawFile(sb.ToString(), rng.Next(0, 16));
    }

    [Fact]
    public void RandomAndMutatedFilesOpenOrFailWithUserExceptionOnly()
    {
        var rng = new Random(20261122);
        using var dir = TestEnvironment.TempDir();
        var path = dir.File("fuzz.safetensors");
        int opened = 0, refused = 0;
        for (int iter = 0; iter < 1500; iter++)
        {
            byte[] bytes = (iter % 3) switch
            {
                0 => RandomHeaderFile(rng),
                1 => Mutate(ValidFile(rng), rng),
                _ => ValidFile(rng),
            };
            File.WriteAllBytes(path, bytes);
            try
            {
                using var r = SafetensorsReader.Open(path);
                long total = 0;
                foreach (var name in r.Names)
                {
                    Assert.True(r.TryGetInfo(name, out var info));
                    var span = r.GetBytes(name);
                    Assert.Equal(info.ByteLength, span.Length);
                    total += span.Length;
                }
                Assert.True(total <= bytes.Length - 8, "tensors larger than the file");
                opened++;
            }
            catch (UserException e)
            {
                Assert.StartsWith(path, e.Message);
                refused++;
            }
        }
        // Both outcomes must actually occur, or the fuzzer is not exercising the validator.
        Assert.True(opened > 400, $"opened {opened}");
        Assert.True(refused > 400, $"refused {refused}");
    }
}
