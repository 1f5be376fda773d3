using System.Text.Json.Nodes;
using SharpTune.Preprocessing;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Training.Loop;

/// <summary>
/// The training set is streamed from the preprocessing cache: a dataset loaded from a cache entry is memory-mapped
/// (the process holds no copy of its arrays), reads the same samples as the dataset that was saved, and a damaged
/// entry is still refused.
/// </summary>
public sealed class StreamedDatasetTests
{
    [Fact]
    public void A_cached_dataset_is_memory_mapped_and_reads_the_saved_samples()
    {
        using var dir = new TempDir();
        var original = LoopFixtures.Dataset(300, 4, minLength: 3, maxLength: 40);
        var cache = new PreprocessCache(dir.Path);
        cache.Save("k1", original, new JsonObject());
        using var loaded = cache.TryLoad("k1", out var problem);
        Assert.Null(problem);
        Assert.NotNull(loaded);
        Assert.True(loaded.IsMapped);
        Assert.False(original.IsMapped);
        Assert.Equal(original.Count, loaded.Count);
        Assert.Equal(original.TokenCount, loaded.TokenCount);
        for (int i = 0; i < original.Count; i++)
        {
            Assert.Equal(original.InputIds(i).ToArray(), loaded.InputIds(i).ToArray());
            Assert.Equal(original.Labels(i), loaded.Labels(i));
            Assert.Equal(original.SupervisedCount(i), loaded.SupervisedCount(i));
            Assert.Equal(original.RecordIndex(i), loaded.RecordIndex(i));
        }
        // Batches collate the same way from either.
        var a = BatchCollator.Collate(original, [5, 17, 250], 0);
        var b = BatchCollator.Collate(loaded, [5, 17, 250], 0);
        Assert.Equal(a.InputIds, b.InputIds);
        Assert.Equal(a.Labels, b.Labels);
    }

    [Fact]
    public void Loading_a_large_entry_does_not_copy_it_into_the_managed_heap()
    {
        using var dir = new TempDir();
        var b = new TokenizedDataset.Builder();
        var ids = Enumerable.Range(0, 1000).ToArray();
        var labels = ids.Select(x => x % 3 == 0 ? x : -100).ToArray();
        for (int i = 0; i < 5000; i++) b.Add(ids, labels, i);   // 5 M tokens: ~20 MB of ids
        var cache = new PreprocessCache(dir.Path);
        cache.Save("big", b.Build(), new JsonObject());
        b = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = GC.GetAllocatedBytesForCurrentThread();
        using var loaded = cache.TryLoad("big", out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.NotNull(loaded);
        Assert.Equal(5_000_000, loaded.TokenCount);
        Assert.True(allocated < 4 << 20, $"loading allocated {allocated:N0} bytes");
        Assert.Equal(999, loaded.InputIds(4999)[^1]);
    }

    [Fact]
    public void A_damaged_entry_is_refused_and_rebuilt()
    {
        using var dir = new TempDir();
        var cache = new PreprocessCache(dir.Path);
        cache.Save("k", LoopFixtures.Dataset(20, 1), new JsonObject());
        var data = Path.Combine(cache.EntryPath("k"), "data.bin");
        var bytes = File.ReadAllBytes(data);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(data, bytes);
        Assert.Null(cache.TryLoad("k", out var problem));
        Assert.Contains("checksum", problem);
    }
}
