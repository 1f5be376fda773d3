using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SharpTune.Data.Sft;
using SharpTune.Preprocessing;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Preprocessing;

/// <summary>Preprocessing streams records chunk by chunk into the cache entry (issue 10, memory of a first run).</summary>
public class StreamedPreprocessingTests
{
    private static PreprocessInputs Inputs(string data, PreprocessOptions options) => new()
    {
        DataPath = data,
        TokenizerJson = "{\"model\": {}}"u8.ToArray(),
        TokenizerConfigJson = "{}"u8.ToArray(),
        TemplateText = "chatml-fake",
        Renderer = new FakeChatMl(),
        Tokenizer = new FakeCharTokenizer(),
        Options = options,
    };

    // Seven records (not a multiple of 2, 3 or 4): short ones kept, long ones truncated or dropped by cutoff_len 60.
    private static string WriteRecords(TempDir tmp)
    {
        var data = tmp.File("train.jsonl");
        File.WriteAllLines(data,
        [
            """{"instruction": "Q0", "input": "", "output": "Yes"}""",
            """{"instruction": "a question long enough to need truncation at this cutoff", "input": "", "output": "No"}""",
            """{"instruction": "Q2", "input": "ctx", "output": "Maybe"}""",
            """{"instruction": "Q3", "input": "", "output": "Four"}""",
            """{"instruction": "another question that is far too long for a cutoff of sixty", "input": "x", "output": "Five"}""",
            """{"instruction": "Q5", "input": "", "output": "Six"}""",
            """{"instruction": "Q6", "input": "the last one", "output": "Seven"}""",
        ]);
        return data;
    }

    public static TheoryData<TruncationMode, int> Cases() => new()
    {
        { TruncationMode.Left, 1 }, { TruncationMode.Left, 3 }, { TruncationMode.Left, 4 }, { TruncationMode.Left, 7 },
        { TruncationMode.Left, 1024 }, { TruncationMode.Drop, 2 }, { TruncationMode.Drop, 1024 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void StreamedEntryIsByteIdenticalToTheInMemoryPath(TruncationMode truncation, int chunk)
    {
        using var tmp = TestEnvironment.TempDir();
        var data = WriteRecords(tmp);
        var options = new PreprocessOptions { CutoffLen = 60, Truncation = truncation };
        var inputs = Inputs(data, options);
        var records = SftDatasetReader.Read(data);
        var (reference, refReport) = new SftPreprocessor(inputs.Renderer, inputs.Tokenizer, options).Process(records);
        Assert.NotEqual(0, refReport.Truncated + refReport.Dropped);
        var expected = PreprocessCache.Encode(reference);

        PreprocessPipeline.ChunkRecords = chunk;
        PreprocessResult r;
        try { r = PreprocessPipeline.Run(inputs, new PreprocessCache(tmp.File("cache")), rebuild: false); }
        finally { PreprocessPipeline.ChunkRecords = 0; }

        Assert.False(r.FromCache);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(r.EntryPath, "data.bin")));
        Assert.False(File.Exists(Path.Combine(r.EntryPath, "data.bin.ids")));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(r.EntryPath, "manifest.json")))!;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(expected)), manifest["data_sha256"]!.GetValue<string>());
        Assert.Equal(reference.Count, manifest["samples"]!.GetValue<int>());
        Assert.Equal(reference.TokenCount, manifest["tokens"]!.GetValue<long>());
        Assert.Equal(new PreprocessReportSummary(refReport.Records, refReport.Kept, refReport.Truncated, refReport.Dropped, refReport.RenderMismatches,
            refReport.SupervisedTokens, refReport.MaskedTokens), r.Report);
        var lines = File.ReadAllLines(Path.Combine(r.EntryPath, "report.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(refReport.Events.Select(e => (e.Index, e.Action, e.OriginalLength, e.FinalLength, e.Detail)),
            lines.Select(l => (l["index"]!.GetValue<int>(), l["action"]!.GetValue<string>(), l["original_length"]!.GetValue<int>(),
                l["final_length"]!.GetValue<int>(), l["detail"]!.GetValue<string>())));
        // The returned dataset is the mapped entry, and the entry is served from the cache next time.
        Assert.True(r.Dataset.IsMapped);
        Assert.True(PreprocessPipeline.Run(inputs, new PreprocessCache(tmp.File("cache")), rebuild: false).FromCache);
    }

    [Fact]
    public void ProcessIntoAcrossChunkBoundariesWritesWhatProcessBuilds()
    {
        using var tmp = TestEnvironment.TempDir();
        var data = WriteRecords(tmp);
        var options = new PreprocessOptions { CutoffLen = 60 };
        var p = new SftPreprocessor(new FakeChatMl(), new FakeCharTokenizer(), options);
        var records = SftDatasetReader.Read(data);
        var (reference, refReport) = p.Process(records);
        var path = tmp.File("data.bin");
        PreprocessReport report;
        using (var writer = new TokenizedDatasetWriter(path))
        {
            report = p.ProcessInto(records, writer, chunkRecords: 3, degreeOfParallelism: 2);
            Assert.Equal(reference.Count, writer.Count);
            writer.Finish();
        }
        Assert.Equal(PreprocessCache.Encode(reference), File.ReadAllBytes(path));
        Assert.Equal(refReport.Events, report.Events);
        Assert.Equal((refReport.Records, refReport.Kept, refReport.Truncated, refReport.SupervisedTokens, refReport.MaskedTokens),
            (report.Records, report.Kept, report.Truncated, report.SupervisedTokens, report.MaskedTokens));
        Assert.False(File.Exists(path + ".ids"));

        // No records: a valid empty data file, as the in-memory path encodes it.
        var empty = tmp.File("empty.bin");
        using (var writer = new TokenizedDatasetWriter(empty))
        {
            Assert.Equal(0, p.ProcessInto([], writer, chunkRecords: 3).Records);
            writer.Finish();
        }
        Assert.Equal(PreprocessCache.Encode(p.Process([]).Dataset), File.ReadAllBytes(empty));
    }

    [Fact]
    public void AFailureInALaterChunkLeavesNoEntryAndNoTemporary()
    {
        using var tmp = TestEnvironment.TempDir();
        var data = WriteRecords(tmp);
        var lines = File.ReadAllLines(data);
        lines[1] = """{"instruction": "Q1", "input": "", "output": "No"}""";
        File.WriteAllLines(data, lines);
        // truncation: error fails on record 4, after chunks 0-1 and 2-3 were written to the temporary entry.
        var inputs = Inputs(data, new PreprocessOptions { CutoffLen = 60, Truncation = TruncationMode.Error });
        var cache = new PreprocessCache(tmp.File("cache"));
        PreprocessPipeline.ChunkRecords = 2;
        try
        {
            var e = Assert.Throws<UserException>(() => PreprocessPipeline.Run(inputs, cache, rebuild: false));
            Assert.Contains(":5: sample is", e.Message);
        }
        finally { PreprocessPipeline.ChunkRecords = 0; }
        Assert.Empty(Directory.GetFileSystemEntries(cache.Root));
    }

    [Fact]
    public void AnUncommittedEntryIsRemovedAndNeverVisible()
    {
        using var tmp = TestEnvironment.TempDir();
        var cache = new PreprocessCache(tmp.File("cache"));
        var key = new string('a', 32);
        string temporary;
        using (var entry = cache.BeginEntry(key))
        {
            temporary = entry.TemporaryPath;
            entry.Data.Add([1, 2, 3], [-100, 2, 3], 0);
            entry.Data.Add([4, 5], [4, -100], 1);
            // The ids go to a file in the temporary folder, not under the entry's name.
            Assert.True(File.Exists(Path.Combine(temporary, "data.bin.ids")));
            Assert.Equal((2, 5L), (entry.Data.Count, entry.Data.TokenCount));
            Assert.False(Directory.Exists(cache.EntryPath(key)));
        }
        Assert.False(Directory.Exists(temporary));
        Assert.Empty(Directory.GetFileSystemEntries(cache.Root));
        Assert.Null(cache.TryLoad(key, out _));

        // A committed one is a valid entry with the same samples.
        using (var entry = cache.BeginEntry(key))
        {
            entry.Data.Add([1, 2, 3], [-100, 2, 3], 0);
            entry.Data.Add([4, 5], [4, -100], 1);
            entry.Commit(new JsonObject { ["note"] = "test" });
        }
        using var back = cache.TryLoad(key, out var problem);
        Assert.Null(problem);
        Assert.Equal([4, -100], back!.Labels(1));
        Assert.Equal(1, back.RecordIndex(1));
        Assert.Equal([cache.EntryPath(key)], Directory.GetDirectories(cache.Root));
    }
}
