using System.Text.Json;

namespace SharpTune.Cli.Commands;

/// <summary>
/// The vocabulary facts <c>init-model</c> needs from a Hugging Face tokenizer.json: the vocab size (largest id in
/// <c>model.vocab</c> and <c>added_tokens</c>, plus one) and the id of a token by its content.
/// Stand-in until <c>SharpTune.Text.Tokenization</c> is merged: the lead switches this one class to that API.
/// </summary>
internal sealed class TokenizerVocabProbe
{
    private readonly Dictionary<string, int> _ids;

    private TokenizerVocabProbe(Dictionary<string, int> ids, int size)
    {
        _ids = ids;
        VocabSize = size;
    }

    /// <summary>Largest token id + 1.</summary>
    public int VocabSize { get; }

    /// <summary>The id of the token whose content is <paramref name="content"/> (added tokens first), or null.</summary>
    public int? IdOf(string content) => _ids.TryGetValue(content, out var id) ? id : null;

    /// <summary>Reads tokenizer.json; errors name the file and the field.</summary>
    public static TokenizerVocabProbe Load(string path)
    {
        if (!File.Exists(path)) throw new UserException($"{path}: file not found (expected a Hugging Face tokenizer.json)");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new UserException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object
                || !model.TryGetProperty("vocab", out var vocab))
                throw new UserException($"{path}: field 'model.vocab' is missing (expected a Hugging Face tokenizer.json)");
            var ids = new Dictionary<string, int>(StringComparer.Ordinal);
            int max = -1;
            if (vocab.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in vocab.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var id) || id < 0)
                        throw new UserException($"{path}: model.vocab['{p.Name}'] must be a non-negative integer id");
                    ids.TryAdd(p.Name, id);
                    max = Math.Max(max, id);
                }
            }
            else if (vocab.ValueKind == JsonValueKind.Array) // Unigram: [[piece, score], ...], the id is the index
            {
                int i = 0;
                foreach (var e in vocab.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() < 1 || e[0].ValueKind != JsonValueKind.String)
                        throw new UserException($"{path}: model.vocab[{i}] must be a [piece, score] pair");
                    ids.TryAdd(e[0].GetString()!, i);
                    max = i++;
                }
            }
            else throw new UserException($"{path}: field 'model.vocab' must be an object or a list");

            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind != JsonValueKind.Null)
            {
                if (added.ValueKind != JsonValueKind.Array) throw new UserException($"{path}: field 'added_tokens' must be a list");
                int i = 0;
                foreach (var t in added.EnumerateArray())
                {
                    if (t.ValueKind != JsonValueKind.Object || !t.TryGetProperty("id", out var idEl) || idEl.ValueKind != JsonValueKind.Number || !idEl.TryGetInt32(out var id) || id < 0
                        || !t.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String)
                        throw new UserException($"{path}: added_tokens[{i}] must have a non-negative integer 'id' and a string 'content'");
                    ids[c.GetString()!] = id; // an added token wins over a vocab entry with the same text
                    max = Math.Max(max, id);
                    i++;
                }
            }
            if (max < 0) throw new UserException($"{path}: the vocabulary is empty");
            return new TokenizerVocabProbe(ids, checked(max + 1));
        }
    }
}
