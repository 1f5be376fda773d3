using System.Text;
using System.Text.Json;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Jinja;

/// <summary>
/// Runs tests/oracles/python/jinja_render.py (jinja2 configured as transformers configures it) once over a JSONL
/// of cases and returns its results, so that each test compares against the reference byte for byte.
/// </summary>
public static class JinjaOracle
{
    public const string Python = "/usr/bin/python3";

    private static string Script => Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "jinja_render.py");

    /// <summary>Whether the oracle can run here (python3 with jinja2).</summary>
    public static bool Available => AvailableLazy.Value;

    private static readonly Lazy<bool> AvailableLazy = new(() =>
    {
        if (!File.Exists(Python)) return false;
        try { return ProcessRunner.Run(Python, ["-c", "import jinja2"], timeoutMs: 60_000).Code == 0; }
        catch (Exception) { return false; }
    });

    /// <summary>One oracle result: the rendered text, or the error it raised.</summary>
    public sealed record Result(string? Text, string? Error);

    /// <summary>Renders every case line (<c>{"template", "vars"}</c>) in one Python process.</summary>
    public static IReadOnlyList<Result> Render(IReadOnlyList<string> caseLines)
    {
        var (code, stdout, stderr) = ProcessRunner.Run(Python, [Script], string.Join("\n", caseLines) + "\n", timeoutMs: 300_000);
        if (code != 0) throw new InvalidOperationException("jinja oracle failed: " + stderr);
        var results = new List<Result>();
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            results.Add(r.TryGetProperty("text", out var t) ? new Result(t.GetString(), null) : new Result(null, r.GetProperty("error").GetString()));
        }
        if (results.Count != caseLines.Count) throw new InvalidOperationException($"oracle returned {results.Count} results for {caseLines.Count} cases");
        return results;
    }

    /// <summary>A readable diff position for failure messages.</summary>
    public static string Diff(string expected, string actual)
    {
        int i = 0;
        while (i < expected.Length && i < actual.Length && expected[i] == actual[i]) i++;
        static string Show(string s, int at) => JsonSerializer.Serialize(s.Substring(Math.Max(0, at - 20), Math.Min(s.Length - Math.Max(0, at - 20), 60)));
        var sb = new StringBuilder();
        sb.Append($"first difference at char {i}\n expected: {Show(expected, i)}\n actual:   {Show(actual, i)}\n full expected: {JsonSerializer.Serialize(expected)}\n full actual:   {JsonSerializer.Serialize(actual)}");
        return sb.ToString();
    }
}
