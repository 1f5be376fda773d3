using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SharpTune.IO;

/// <summary>
/// One canonical JSON text per value, by reflection over its runtime type: every public property, snake_case
/// names, enums as snake_case strings, object keys sorted at every level, no whitespace. Equal values give equal
/// text, and a type with one more property gives different text, so hashes of it (cache keys) cannot silently
/// ignore a new option.
/// </summary>
public static class CanonicalJson
{
    /// <summary>The serializer options: snake_case properties and enums, dictionary keys as given.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        };
        o.MakeReadOnly();
        return o;
    }

    /// <summary>The canonical text of <paramref name="value"/> (serialized as its runtime type).</summary>
    public static string Serialize(object? value) => ToNode(value)?.ToJsonString() ?? "null";

    /// <summary>The canonical tree of <paramref name="value"/>: keys sorted at every level.</summary>
    public static JsonNode? ToNode(object? value) =>
        Sorted(value is null ? null : JsonSerializer.SerializeToNode(value, value.GetType(), Options));

    private static JsonNode? Sorted(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, Sorted(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(Sorted).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };
}
