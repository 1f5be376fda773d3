namespace SharpTune.Text.Tokenization;

/// <summary>Quoting for descriptions printed by <c>tokenizer info</c>.</summary>
internal static class Escape
{
    public static string Json(string s) => System.Text.Json.JsonSerializer.Serialize(s, Options);

    private static readonly System.Text.Json.JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
