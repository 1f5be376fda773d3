using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.IO;

namespace SharpTune.Inference;

/// <summary>
/// The output of an inference run, written so that an interrupted run resumes and a reader never sees a half file:
/// lines are appended (flushed one by one, in input order) to <c>OUTPUT.partial</c>, which is renamed to
/// <c>OUTPUT</c> when every record is written; <c>OUTPUT.infer.json</c> records what produced them (model, adapter,
/// data and settings fingerprints). Reopening with the same fingerprint continues after the last complete line (a
/// torn last line is dropped); with another fingerprint it is an error naming what changed.
/// </summary>
public sealed class PredictionFile : IDisposable
{
    private readonly string _output, _partial;
    private FileStream? _stream;

    private PredictionFile(string output, string partial, int written, FileStream? stream)
    {
        _output = output;
        _partial = partial;
        Written = written;
        _stream = stream;
    }

    /// <summary>Lines already in the file (the next line's index).</summary>
    public int Written { get; private set; }

    /// <summary>The settings file beside <paramref name="output"/>.</summary>
    public static string SettingsPath(string output) => output + ".infer.json";

    /// <summary>The file lines are appended to until the run completes.</summary>
    public static string PartialPath(string output) => output + ".partial";

    /// <summary>
    /// Opens <paramref name="output"/> for a run of <paramref name="total"/> records described by
    /// <paramref name="fingerprint"/>: fresh, resumed from the partial file, or already complete (<see cref="Written"/> = total).
    /// </summary>
    public static PredictionFile Open(string output, JsonObject fingerprint, int total)
    {
        string settings = SettingsPath(output), partial = PartialPath(output);
        var dir = Path.GetDirectoryName(Path.GetFullPath(output))!;
        Directory.CreateDirectory(dir);
        bool hasOutput = File.Exists(output), hasPartial = File.Exists(partial);
        if (File.Exists(settings))
        {
            JsonObject recorded;
            try { recorded = JsonNode.Parse(File.ReadAllText(settings)) as JsonObject ?? throw new UserException($"{settings}: expected a JSON object"); }
            catch (JsonException e) { throw new UserException($"{settings}: not valid JSON ({e.Message}); delete it with {output} to start afresh"); }
            var changed = fingerprint.Select(kv => kv.Key)
                .Where(k => !recorded.ContainsKey(k) || !JsonNode.DeepEquals(recorded[k], fingerprint[k])).ToList();
            changed.AddRange(recorded.Select(kv => kv.Key).Where(k => !fingerprint.ContainsKey(k)));
            if (changed.Count > 0)
                throw new UserException($"{output}: was written with a different {string.Join(", ", changed)} (see {settings}); use another --output, or delete {output}, {Path.GetFileName(partial)} and {Path.GetFileName(settings)} to start afresh");
            if (hasOutput && !hasPartial)
            {
                int lines = CheckLines(output, total);
                if (lines != total) throw new UserException($"{output}: holds {lines} records but the data has {total}");
                return new PredictionFile(output, partial, total, null);
            }
        }
        else if (hasOutput || hasPartial)
            throw new UserException($"{(hasOutput ? output : partial)}: exists but {Path.GetFileName(settings)} (what wrote it) does not; use another --output or delete it");
        else
            AtomicFile.WriteAllText(settings, fingerprint.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");

        int written = 0;
        if (hasPartial)
        {
            DropTornLine(partial);
            written = CheckLines(partial, total);
        }
        var stream = new FileStream(partial, FileMode.Append, FileAccess.Write, FileShare.Read);
        // An interrupt keeps the partial file (the next run resumes from it) and says so.
        TemporaryOutputs.KeepResumable(partial);
        return new PredictionFile(output, partial, written, stream);
    }

    /// <summary>Appends one JSON line (no line end) and flushes it to the operating system.</summary>
    public void Append(string jsonLine)
    {
        if (_stream is null) throw new InvalidOperationException("the file is complete");
        var bytes = Encoding.UTF8.GetBytes(jsonLine + "\n");
        _stream.Write(bytes);
        _stream.Flush();
        Written++;
    }

    /// <summary>Renames the partial file to the output: every record is written.</summary>
    public void Complete()
    {
        if (_stream is null) return;
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _stream = null;
        File.Move(_partial, _output, overwrite: true);
        TemporaryOutputs.ForgetResumable(_partial);
    }

    // A line without its "\n" was being written when the run stopped: it is not a record yet.
    private static void DropTornLine(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        long end = fs.Length;
        if (end == 0) return;
        var buffer = new byte[1];
        long keep = end;
        while (keep > 0)
        {
            fs.Position = keep - 1;
            fs.ReadExactly(buffer);
            if (buffer[0] == (byte)'\n') break;
            keep--;
        }
        if (keep != end) fs.SetLength(keep);
    }

    // Every line a JSON object whose "index" is its line number (0-based): the file is a prefix of the run's output.
    private static int CheckLines(string path, int total)
    {
        int n = 0;
        foreach (var line in File.ReadLines(path))
        {
            long? index = null;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("index", out var i) && i.TryGetInt64(out var v)) index = v;
            }
            catch (JsonException) { }
            if (index != n) throw new UserException($"{path}:{n + 1}: expected a prediction line with \"index\": {n}; the file was changed after infer wrote it");
            n++;
        }
        if (n > total) throw new UserException($"{path}: holds {n} records but the data has only {total}");
        return n;
    }

    /// <inheritdoc />
    public void Dispose() => _stream?.Dispose();
}
