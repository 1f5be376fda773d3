using System.Text.Json.Nodes;
using SharpTune.IO;

namespace SharpTune.Preprocessing;

/// <summary>
/// A cache entry being written sample by sample (<see cref="PreprocessCache.BeginEntry"/>): the samples go through
/// <see cref="Data"/> into a temporary folder registered with <see cref="TemporaryOutputs"/>, and
/// <see cref="Commit"/> writes the manifest and report and renames the folder to the entry. Disposing an uncommitted
/// writer (an exception, an interrupt) removes the temporary folder, so no partial entry is ever visible.
/// </summary>
public sealed class PreprocessCacheEntryWriter : IDisposable
{
    private readonly string _key;
    private readonly string _final;
    private readonly string _tmp;
    private bool _done;

    internal PreprocessCacheEntryWriter(PreprocessCache cache, string key)
    {
        Directory.CreateDirectory(cache.Root);
        _key = key;
        _final = cache.EntryPath(key);
        _tmp = TemporaryOutputs.Begin(_final);
        try
        {
            Directory.CreateDirectory(_tmp);
            Data = new TokenizedDatasetWriter(Path.Combine(_tmp, "data.bin"));
        }
        catch
        {
            TemporaryOutputs.Discard(_tmp);
            throw;
        }
    }

    /// <summary>The temporary folder (for tests and messages).</summary>
    public string TemporaryPath => _tmp;

    /// <summary>The data.bin writer: add the samples in order.</summary>
    public TokenizedDatasetWriter Data { get; }

    /// <summary>
    /// Finishes data.bin, writes the manifest (with the key, sample and token counts and data.bin's SHA-256), the
    /// report lines and the prompt settings, and renames the temporary folder to the entry.
    /// </summary>
    public void Commit(JsonObject manifest, IEnumerable<string>? reportLines = null, RunPromptSettings? promptSettings = null)
    {
        if (_done) throw new InvalidOperationException("the cache entry is already committed or discarded");
        try
        {
            var sha = Data.Finish();
            PreprocessCache.CompleteEntry(_tmp, _final, _key, Data.Count, Data.TokenCount, sha, manifest, reportLines, promptSettings);
            _done = true;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Removes the temporary folder unless the entry was committed.</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        Data?.Dispose();
        TemporaryOutputs.Discard(_tmp);
    }
}
