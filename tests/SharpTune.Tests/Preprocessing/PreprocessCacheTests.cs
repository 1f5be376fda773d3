using System.Text;
using System.Text.Json.Nodes;
using SharpTune.Preprocessing;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Preprocessing;

public class PreprocessCacheTests
{
    private static TokenizedDataset Sample()
    {
        var b = new TokenizedDataset.Builder();
        b.Add([1, 2, 3, 4], [-100, -100, 3, 4], 0);
        b.Add([5, 6, 7, 8, 9, 10, 11, 12, 13], [-100, 6, -100, 8, 9, 10, 11, 12, 13], 2);
        return b.Build();
    }

    private static Dictionary<string, byte[]> Components() => new()
    {
        ["data"] = "[{\"text\": \"a\"}]"u8.ToArray(),
        ["tokenizer.json"] = "{}"u8.ToArray(),
        ["template"] = Encoding.UTF8.GetBytes("{{ x }}"),
        ["options"] = Encoding.UTF8.GetBytes("{\"cutoff_len\":1024}"),
    };

    [Fact]
    public void RoundTripsSamplesLabelsAndRecordIndices()
    {
        using var tmp = TestEnvironment.TempDir();
        var cache = new PreprocessCache(tmp.File("cache"));
        var key = PreprocessCache.Key(Components());
        Assert.Null(cache.TryLoad(key, out _));
        cache.Save(key, Sample(), new JsonObject { ["note"] = "test" });
        var back = cache.TryLoad(key, out var problem);
        Assert.Null(problem);
        Assert.NotNull(back);
        Assert.Equal(2, back.Count);
        Assert.Equal([5, 6, 7, 8, 9, 10, 11, 12, 13], back.InputIds(1).ToArray());
        Assert.Equal([-100, 6, -100, 8, 9, 10, 11, 12, 13], back.Labels(1));
        Assert.Equal(2, back.RecordIndex(1));
        Assert.Equal(7, back.SupervisedCount(1));
        Assert.Empty(Directory.GetDirectories(tmp.File("cache"), ".*"));
    }

    [Fact]
    public void KeyChangesWithAnyComponentByteAndNotOtherwise()
    {
        var baseKey = PreprocessCache.Key(Components());
        Assert.Equal(baseKey, PreprocessCache.Key(Components()));
        foreach (var name in Components().Keys)
        {
            var c = Components();
            var bytes = c[name].ToArray();
            bytes[^1] ^= 1;
            c[name] = bytes;
            Assert.NotEqual(baseKey, PreprocessCache.Key(c));
        }
        // Moving a byte from one component to the next must not collide.
        var a = new Dictionary<string, byte[]> { ["a"] = "xy"u8.ToArray(), ["b"] = "z"u8.ToArray() };
        var b = new Dictionary<string, byte[]> { ["a"] = "x"u8.ToArray(), ["b"] = "yz"u8.ToArray() };
        Assert.NotEqual(PreprocessCache.Key(a), PreprocessCache.Key(b));
    }

    [Fact]
    public void CorruptedOrPartialEntriesAreDetected()
    {
        using var tmp = TestEnvironment.TempDir();
        var cache = new PreprocessCache(tmp.File("cache"));
        var key = PreprocessCache.Key(Components());
        cache.Save(key, Sample(), []);
        var data = Path.Combine(cache.EntryPath(key), "data.bin");
        var bytes = File.ReadAllBytes(data);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(data, bytes);
        Assert.Null(cache.TryLoad(key, out var problem));
        Assert.Contains("checksum", problem);

        cache.Save(key, Sample(), []);
        File.Delete(Path.Combine(cache.EntryPath(key), "manifest.json"));
        Assert.Null(cache.TryLoad(key, out problem));
        Assert.Contains("unusable", problem);
    }
}
