using System.Text.Json;

namespace SharpTune.Data.Sft;

/// <summary>
/// Reads a dataset file — a JSON array or JSON Lines — into <see cref="SftRecord"/>s. The format comes from a
/// <see cref="DatasetDescription"/> or is detected from the first record's keys; every record is then checked
/// against it. Errors name the file, the line (JSONL) or record index (array), and the field.
/// </summary>
public static class SftDatasetReader
{
    /// <summary>Reads all records of <paramref name="path"/>.</summary>
    public static IReadOnlyList<SftRecord> Read(string path, DatasetDescription? description = null)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: data file not found");
        var bytes = File.ReadAllBytes(path);
        var records = new List<SftRecord>();
        foreach (var (element, source, index) in Elements(bytes, path))
        {
            if (description is null)
            {
                var format = DatasetDescription.Detect(element)
                    ?? throw new UserException($"{source}: cannot tell the record format from its keys (expected messages, conversations, instruction+output, prompt+completion, input_text+full_text or text)");
                description = DatasetDescription.For(format);
            }
            records.Add(SftRecordParser.Parse(element, description, source, index));
        }
        return records;
    }

    /// <summary>The records of a JSON array or JSONL file, with their source labels.</summary>
    internal static IEnumerable<(JsonElement Element, string Source, int Index)> Elements(byte[] bytes, string path)
    {
        int start = 0;
        if (bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) start = 3;
        int first = start;
        while (first < bytes.Length && bytes[first] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') first++;
        if (first == bytes.Length) throw new UserException($"{path}: the file is empty (expected a JSON array or JSON Lines of records)");
        return bytes[first] == (byte)'[' ? ArrayElements(bytes, start, path) : LineElements(bytes, start, path);
    }

    private static IEnumerable<(JsonElement, string, int)> ArrayElements(byte[] bytes, int start, string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes.AsMemory(start), new JsonDocumentOptions { MaxDepth = 256 }); }
        catch (JsonException e) { throw new UserException($"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}"); }
        using (doc)
        {
            var lines = ElementLines(bytes, start);
            int i = 0;
            foreach (var el in doc.RootElement.EnumerateArray())
            {
                yield return (el, $"{path}:{lines[i]}", i);
                i++;
            }
        }
    }

    // The 1-based line on which each top-level array element starts, so that errors name file:line as for JSONL.
    private static List<int> ElementLines(byte[] bytes, int start)
    {
        var lines = new List<int>();
        var reader = new Utf8JsonReader(bytes.AsSpan(start), new JsonReaderOptions { MaxDepth = 256 });
        int line = 1;
        long counted = 0;
        while (reader.Read())
        {
            if (reader.CurrentDepth != 1 || reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject) continue;
            long at = reader.TokenStartIndex;
            line += bytes.AsSpan(start + (int)counted, (int)(at - counted)).Count((byte)'\n');
            counted = at;
            lines.Add(line);
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
        }
        return lines;
    }

    private static IEnumerable<(JsonElement, string, int)> LineElements(byte[] bytes, int start, string path)
    {
        int line = 0, index = 0, pos = start;
        while (pos < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', pos);
            if (end < 0) end = bytes.Length;
            line++;
            var span = bytes.AsMemory(pos, end - pos);
            pos = end + 1;
            if (span.Span.Trim(" \t\r"u8).IsEmpty) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(span, new JsonDocumentOptions { MaxDepth = 256 }); }
            catch (JsonException e) { throw new UserException($"{path}:{line}: not valid JSON (byte {e.BytePositionInLine + 1}): {e.Message}"); }
            using (doc) yield return (doc.RootElement, $"{path}:{line}", index++);
        }
    }
}
