using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.Text.Templates;

namespace SharpTune.Bench;

/// <summary>
/// <c>template-render</c>: renders/s of a MovieLens conversation (system, user with a 15-movie history, assistant)
/// through Qwen3's chat template compiled once, single thread, against Python jinja2 set up as transformers sets it
/// up (tests/oracles/python/jinja_render.py --bench), measured in the same run. Also checks both render the same text.
/// </summary>
internal static class TemplateRenderBench
{
    private static readonly string[] Movies =
    [
        "Toy Story (1995)", "Heat (1995)", "GoldenEye (1995)", "Twelve Monkeys (a.k.a. 12 Monkeys) (1995)", "Braveheart (1995)",
        "Usual Suspects, The (1995)", "Seven (a.k.a. Se7en) (1995)", "Pulp Fiction (1994)", "Shawshank Redemption, The (1994)",
        "Forrest Gump (1994)", "Lion King, The (1994)", "Speed (1994)", "Fugitive, The (1993)", "Jurassic Park (1993)",
        "Schindler's List (1993)", "Fargo (1996)",
    ];

    public static int Run(string[] args)
    {
        int iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20000;
        var history = string.Join("\n", Movies.Take(15).Select((m, i) => $"{i + 1}. {m}, rated {(i % 5) + 1}.0"));
        var messages = new List<ChatMessage>
        {
            new("system", "You are a movie recommender. Given the movies a user watched, in order, name the movie they will watch next."),
            new("user", "The user watched these movies, oldest first:\n" + history + "\nWhich movie will they watch next?"),
            new("assistant", Movies[15]),
        };
        var template = ChatTemplate.Builtin("qwen3");
        var options = new ChatRenderOptions();
        string text = template.Render(messages, options);

        // Warm up for a second so the JIT has finished tiering before anything is timed.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 1) template.Render(messages, options);

        var vars = new JsonObject
        {
            ["messages"] = new JsonArray(messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
            ["tools"] = null,
            ["documents"] = null,
            ["add_generation_prompt"] = false,
            ["eos_token"] = "<|im_end|>",
        };
        string caseLine = new JsonObject { ["template"] = template.Source, ["vars"] = vars }.ToJsonString() + "\n";
        string root = RepoRoot();
        string script = Path.Combine(root, "tests", "oracles", "python", "jinja_render.py");
        string pyText = JsonDocument.Parse(RunPython(script, [], caseLine)).RootElement.GetProperty("text").GetString()!;

        // Rounds alternate between the two so that load from other processes hits both alike; medians are compared.
        var rates = new List<double>();
        var pyRates = new List<double>();
        for (int round = 0; round < 5; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++) template.Render(messages, options);
            rates.Add(iterations / sw.Elapsed.TotalSeconds);
            pyRates.Add(JsonDocument.Parse(RunPython(script, ["--bench", (iterations / 8).ToString(CultureInfo.InvariantCulture)], caseLine)).RootElement.GetProperty("renders_per_s").GetDouble());
        }
        rates.Sort();
        pyRates.Sort();
        double ours = rates[2], py = pyRates[2];

        Console.WriteLine($"template-render: Qwen3 template, MovieLens conversation ({messages.Count} messages, {text.Length} chars rendered)");
        Console.WriteLine($"  identical render to jinja2: {(pyText == text ? "yes" : "NO")}");
        Console.WriteLine($"  SharpTune: {ours:F0} renders/s (median of 5 x {iterations}; all: {string.Join(", ", rates.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))})");
        Console.WriteLine($"  jinja2:    {py:F0} renders/s (median of 5 x {iterations / 8}; all: {string.Join(", ", pyRates.Select(r => r.ToString("F0", CultureInfo.InvariantCulture)))})");
        Console.WriteLine($"  ratio: {ours / py:F1}x");
        return pyText == text ? 0 : 1;
    }

    private static string RunPython(string script, string[] args, string stdin)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        string output = p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("python jinja2 peer failed: " + err);
        return output.Trim();
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SharpTune.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
    }
}
