using System.Globalization;
using System.Text.Json;

namespace SharpTune.Evaluation.Report;

/// <summary>Reading the JSON inputs of a report: a malformed file is a user error naming the file and line.</summary>
internal static class ReportJson
{
    public static JsonElement Read(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.Clone();
        }
        catch (JsonException e) { throw new UserException($"{path}:{(e.LineNumber ?? 0) + 1}: malformed JSON: {e.Message}", e); }
        catch (IOException e) { throw new UserException($"{path}: cannot read: {e.Message}", e); }
    }

    public static double? Number(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    public static string? Text(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static (double Low, double High)? Interval(JsonElement result, string metric) =>
        result.TryGetProperty("intervals", out var iv) && iv.TryGetProperty(metric, out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() == 2
            ? (a[0].GetDouble(), a[1].GetDouble()) : null;

    public static string Format(double? v, string format = "0.0000") => v is double d ? d.ToString(format, CultureInfo.InvariantCulture) : "–";

    /// <summary>A JSON value as one table cell.</summary>
    public static string Cell(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetDouble().ToString("0.######", CultureInfo.InvariantCulture),
        JsonValueKind.String => v.GetString() ?? "",
        JsonValueKind.Null => "null",
        _ => v.GetRawText(),
    };
}
