using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.Data.Sft;
using SharpTune.IO;
using SharpTune.Text;

namespace SharpTune.Preprocessing;

/// <summary>The outcome of <see cref="PreprocessPipeline.Run"/>.</summary>
/// <param name="Dataset">The tokenized samples.</param>
/// <param name="Report">Counts and events (from this run, or as stored with the cache entry).</param>
/// <param name="Key">The cache key.</param>
/// <param name="FromCache">Whether the dataset was loaded from the cache.</param>
/// <param name="EntryPath">The cache entry folder (holds data.bin, manifest.json and report.jsonl).</param>
/// <param name="Seconds">Wall time of the run.</param>
public sealed record PreprocessResult(TokenizedDataset Dataset, PreprocessReportSummary Report, string Key, bool FromCache, string EntryPath, double Seconds);

/// <summary>Counts of a preprocessing run as stored in the cache manifest.</summary>
public sealed record PreprocessReportSummary(int Records, int Kept, int Truncated, int Dropped, int RenderMismatches, long SupervisedTokens, long MaskedTokens);

/// <summary>Loads records, tokenizes them through the cache, and writes the per-sample report beside the entry.</summary>
public static class PreprocessPipeline
{
    /// <summary>
    /// The options as hashed into the cache key: the canonical JSON (<see cref="CanonicalJson"/>) of the whole
    /// <see cref="PreprocessOptions"/> record, prompt settings included, and of the dataset description, by
    /// reflection, so an option added to either record is part of the key without anyone listing it here.
    /// </summary>
    public static string CanonicalOptions(PreprocessOptions o, DatasetDescription? d) =>
        CanonicalJson.Serialize(new Dictionary<string, object?> { ["preprocess_options"] = o, ["dataset_description"] = d });

    /// <summary>Runs preprocessing, reusing a valid cache entry unless <paramref name="rebuild"/>.</summary>
    public static PreprocessResult Run(PreprocessInputs inputs, PreprocessCache cache, bool rebuild, Action<string>? log = null)
    {
        SharpTune.IO.InputPaths.RequireFile(inputs.DataPath, $"{inputs.DataPath}: data file not found");
        var dataBytes = File.ReadAllBytes(inputs.DataPath);
        return RunCore(inputs, dataBytes, Path.GetFullPath(inputs.DataPath), () => SftDatasetReader.Read(inputs.DataPath, inputs.Description), cache, rebuild, log);
    }

    /// <summary>
    /// Preprocesses records already read and selected (<c>sharptune train</c>'s <see cref="ResolvedDatasets"/>) through
    /// the same cache: <paramref name="recordsFingerprint"/> (the datasets' fingerprint, which covers the files, their
    /// descriptions and the selection) and <paramref name="split"/> stand for the data file in the key, so a changed
    /// file, selection or split is a new entry. <see cref="PreprocessInputs.DataPath"/> only names the data in messages.
    /// </summary>
    public static PreprocessResult RunRecords(PreprocessInputs inputs, IReadOnlyList<SftRecord> records, string recordsFingerprint, string split,
        PreprocessCache cache, bool rebuild, Action<string>? log = null) =>
        RunRecords(inputs, () => records, recordsFingerprint, split, cache, rebuild, log);

    /// <summary>
    /// <see cref="RunRecords(PreprocessInputs, IReadOnlyList{SftRecord}, string, string, PreprocessCache, bool, Action{string}?)"/>
    /// with the records read by <paramref name="readRecords"/> only when the cache has no entry: a cached split is
    /// never held as objects.
    /// </summary>
    public static PreprocessResult RunRecords(PreprocessInputs inputs, Func<IReadOnlyList<SftRecord>> readRecords, string recordsFingerprint, string split,
        PreprocessCache cache, bool rebuild, Action<string>? log = null) =>
        RunCore(inputs, Encoding.UTF8.GetBytes($"records:{split}:{recordsFingerprint}"), $"{split} records of {inputs.DataPath}", readRecords, cache, rebuild, log);

    // Records preprocessed at a time; a test lowers it (on its own thread only) to cross chunk boundaries with a few records.
    [ThreadStatic] private static int _chunkRecords;
    internal static int ChunkRecords
    {
        get => _chunkRecords > 0 ? _chunkRecords : SftPreprocessor.DefaultChunkRecords;
        set => _chunkRecords = value;
    }

    private static PreprocessResult RunCore(PreprocessInputs inputs, byte[] dataBytes, string dataName, Func<IReadOnlyList<SftRecord>> read,
        PreprocessCache cache, bool rebuild, Action<string>? log)
    {
        var sw = Stopwatch.StartNew();
        var options = CanonicalOptions(inputs.Options, inputs.Description);
        var key = PreprocessCache.Key(new Dictionary<string, byte[]>
        {
            ["data"] = dataBytes,
            ["tokenizer.json"] = inputs.TokenizerJson,
            ["tokenizer_config.json"] = inputs.TokenizerConfigJson,
            ["template"] = Encoding.UTF8.GetBytes(inputs.TemplateText),
            ["options"] = Encoding.UTF8.GetBytes(options),
        });
        if (!rebuild)
        {
            var cached = cache.TryLoad(key, out var problem);
            if (problem is not null) log?.Invoke(problem);
            if (cached is not null && ReadSummary(cache.EntryPath(key)) is { } summary)
                return new PreprocessResult(cached, summary, key, true, cache.EntryPath(key), sw.Elapsed.TotalSeconds);
        }
        var preprocessor = new SftPreprocessor(inputs.Renderer, inputs.Tokenizer, inputs.Options);
        var records = read();
        // Streamed into the entry chunk by chunk: the dataset is never held in memory (an exception or an interrupt
        // removes the temporary entry).
        using var entry = cache.BeginEntry(key);
        var report = preprocessor.ProcessInto(records, entry.Data, ChunkRecords);
        var s = new PreprocessReportSummary(report.Records, report.Kept, report.Truncated, report.Dropped, report.RenderMismatches, report.SupervisedTokens, report.MaskedTokens);
        var manifest = new JsonObject
        {
            ["data_file"] = dataName,
            ["inputs"] = new JsonObject
            {
                ["data"] = Sha256(dataBytes),
                ["tokenizer.json"] = Sha256(inputs.TokenizerJson),
                ["tokenizer_config.json"] = Sha256(inputs.TokenizerConfigJson),
                ["template"] = Sha256(Encoding.UTF8.GetBytes(inputs.TemplateText)),
            },
            ["options"] = JsonNode.Parse(options),
            ["report"] = JsonSerializer.SerializeToNode(s, SummaryJson),
        };
        // The entry records the prompt settings with the template text it rendered with, for inference to reuse.
        var prompt = inputs.Options.Prompt with { TemplateSource = inputs.Options.Prompt.TemplateSource ?? inputs.TemplateText };
        entry.Commit(manifest, ReportLines(report), RunPromptSettings.From(inputs.Options with { Prompt = prompt }));
        // From here on the samples are read from the cache file (memory-mapped), as a cached run reads them.
        var mapped = PreprocessCache.OpenMapped(Path.Combine(cache.EntryPath(key), "data.bin"));
        return new PreprocessResult(mapped, s, key, false, cache.EntryPath(key), sw.Elapsed.TotalSeconds);
    }

    private static IEnumerable<string> ReportLines(PreprocessReport report) =>
        report.Events.Select(e => JsonSerializer.Serialize(new
        {
            index = e.Index, source = e.Source, action = e.Action, original_length = e.OriginalLength, final_length = e.FinalLength, detail = e.Detail,
        }, LineJson));

    // Non-ASCII text (titles, "≈") is written as UTF-8, as every other output of SharpTune writes it.
    private static readonly JsonSerializerOptions LineJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // The manifest's report block in snake_case like the rest of the manifest; an entry written before (PascalCase)
    // lacks the keys, fails to read and is rebuilt.
    internal static readonly JsonSerializerOptions SummaryJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectRequiredConstructorParameters = true,
    };

    private static PreprocessReportSummary? ReadSummary(string entry)
    {
        try
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(entry, "manifest.json")));
            return manifest?["report"]?.Deserialize<PreprocessReportSummary>(SummaryJson);
        }
        catch (Exception e) when (e is IOException or JsonException) { return null; }
    }

    private static string Sha256(byte[] b) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(b));
}
