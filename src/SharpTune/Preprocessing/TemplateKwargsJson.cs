using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpTune.Preprocessing;

/// <summary>
/// Template keyword arguments from JSON, as the template engine takes them: booleans, null and strings as .NET
/// values (so <c>enable_thinking</c> compares as a bool), numbers, arrays and objects as <see cref="JsonElement"/>.
/// The one conversion used by the settings binder and by <see cref="PromptSettingsFile"/>.
/// </summary>
public static class TemplateKwargsJson
{
    /// <summary>Converts one JSON value.</summary>
    public static object? Value(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => e.GetString(),
        _ => e.Clone(),
    };

    /// <summary>Converts a JSON object of keyword arguments; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyDictionary<string, object?> FromJson(JsonObject obj, string source)
    {
        var kwargs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (k, v) in obj)
        {
            if (k.Length == 0) throw new UserException($"{source}: template_kwargs has an empty key");
            kwargs[k] = v is null ? null : Value(JsonSerializer.SerializeToElement(v));
        }
        return kwargs;
    }

    /// <summary>Parses JSON object text such as <c>{"enable_thinking": false}</c>; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyDictionary<string, object?> Parse(string json, string source)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(json); }
        catch (JsonException e) { throw new UserException($"{source}: expected a JSON object of template variables ({e.Message})"); }
        return node is JsonObject o ? FromJson(o, source) : throw new UserException($"{source}: expected a JSON object of template variables, got '{json}'");
    }
}
