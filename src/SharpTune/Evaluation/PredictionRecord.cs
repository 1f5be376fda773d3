using System.Text.Encodings.Web;
using System.Text.Json;

namespace SharpTune.Evaluation;

/// <summary>
/// One line of a predictions file, as <c>sharptune infer</c> writes it and <c>sharptune eval</c> reads it:
/// <c>index</c>, <c>output</c> (raw generated text), <c>answer</c> (extracted label or null), <c>label</c> (reference),
/// <c>correct</c>, <c>finish_reason</c>, <c>prompt_tokens</c>, <c>generated_tokens</c>, <c>scores</c> (label →
/// log-probability), <c>p</c> (the positive label's probability over the label set), <c>prompt</c>, then the
/// record's own id fields (<c>user_id</c>, <c>movie_id</c>, …) in <see cref="Extra"/>. Absent fields are null.
/// </summary>
public sealed record PredictionRecord
{
    /// <summary>Field names with a meaning of their own; every other field is kept in <see cref="Extra"/>.</summary>
    public static readonly IReadOnlySet<string> KnownFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "index", "output", "answer", "label", "correct", "finish_reason", "prompt_tokens", "generated_tokens", "scores", "p", "prompt",
    };

    /// <summary>Position of the record in the input data (0-based).</summary>
    public long? Index { get; init; }

    /// <summary>The raw generated text.</summary>
    public string? Output { get; init; }

    /// <summary>Whether the line has an <c>answer</c> field (it may be null: unparseable).</summary>
    public bool HasAnswer { get; init; }

    /// <summary>The extracted label, or null when unparseable (see <see cref="HasAnswer"/>).</summary>
    public string? Answer { get; init; }

    /// <summary>The reference label, when the input record had one.</summary>
    public string? Label { get; init; }

    /// <summary>Whether <see cref="Answer"/> equals <see cref="Label"/>.</summary>
    public bool? Correct { get; init; }

    /// <summary>eos, stop or length.</summary>
    public string? FinishReason { get; init; }

    /// <summary>Tokens in the prompt.</summary>
    public int? PromptTokens { get; init; }

    /// <summary>Tokens generated.</summary>
    public int? GeneratedTokens { get; init; }

    /// <summary>Label → log-probability of its complete token sequence after the prompt (infer --score).</summary>
    public IReadOnlyList<KeyValuePair<string, double>>? Scores { get; init; }

    /// <summary>The positive label's probability, the softmax of <see cref="Scores"/> over the label set.</summary>
    public double? P { get; init; }

    /// <summary>The rendered prompt (infer --save-prompts).</summary>
    public string? Prompt { get; init; }

    /// <summary>Other fields of the line (the input record's ids), name → raw JSON value, in line order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];

    /// <summary>The raw JSON text of a field for slicing (<c>eval --by</c>): known fields as written, else <see cref="Extra"/>; null when absent.</summary>
    public string? FieldText(string name)
    {
        switch (name)
        {
            case "label": return Label;
            case "answer": return HasAnswer ? Answer ?? "null" : null;
            case "finish_reason": return FinishReason;
            case "correct": return Correct is { } c ? (c ? "true" : "false") : null;
            case "output": return Output;
            case "prompt": return Prompt;
        }
        foreach (var (k, v) in Extra)
            if (k == name)
                return v.Length > 0 && v[0] == '"' ? JsonSerializer.Deserialize<string>(v) : v;
        return null;
    }

    /// <summary>Writes the record as one JSON object (no line end), fields in the documented order, absent ones left out except <c>answer</c>.</summary>
    public void WriteTo(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        if (Index is { } i) w.WriteNumber("index", i);
        if (Output is not null) w.WriteString("output", Output);
        if (HasAnswer)
        {
            if (Answer is null) w.WriteNull("answer"); else w.WriteString("answer", Answer);
        }
        if (Label is not null) w.WriteString("label", Label);
        if (Correct is { } c) w.WriteBoolean("correct", c);
        if (FinishReason is not null) w.WriteString("finish_reason", FinishReason);
        if (PromptTokens is { } pt) w.WriteNumber("prompt_tokens", pt);
        if (GeneratedTokens is { } gt) w.WriteNumber("generated_tokens", gt);
        if (Scores is not null)
        {
            w.WriteStartObject("scores");
            foreach (var (k, v) in Scores) w.WriteNumber(k, v);
            w.WriteEndObject();
        }
        if (P is { } p) w.WriteNumber("p", p);
        if (Prompt is not null) w.WriteString("prompt", Prompt);
        foreach (var (k, v) in Extra)
        {
            w.WritePropertyName(k);
            w.WriteRawValue(v, skipInputValidation: false);
        }
        w.WriteEndObject();
    }

    /// <summary>The record as one JSON line (UTF-8, non-ASCII not escaped, no line end).</summary>
    public string ToJsonLine()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            WriteTo(w);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
