using System.Net;
using System.Text.RegularExpressions;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Report;

/// <summary>
/// Debian's <c>chromium</c> run headless (no DevTools protocol): <c>--screenshot</c> and <c>--dump-dom</c>, with
/// <c>--enable-logging=stderr --v=0</c> so every console message of the page (errors, uncaught exceptions, resources
/// that failed to load) appears on stderr as a <c>CONSOLE</c> line. Each run gets its own profile folder so runs in
/// parallel do not share a lock.
/// </summary>
internal static partial class HeadlessBrowser
{
    public const string Program = "chromium";

    /// <summary>A laptop's viewport.</summary>
    public const int Width = 1366, Height = 768;

    /// <summary>Fails (test.sh) or skips (plain dotnet test) when chromium is absent; tests/setup/10-apt.sh installs it.</summary>
    public static void Require() => TestEnvironment.RequireOracle(ProcessRunner.Exists(Program), "Debian's chromium (headless browser)");

    /// <summary>What one page load printed: the console lines, and stdout (the DOM with --dump-dom).</summary>
    public sealed record PageRun(IReadOnlyList<string> ConsoleLines, string Stdout);

    /// <summary>Loads <paramref name="htmlPath"/> and writes a screenshot of <paramref name="height"/> pixels' height.</summary>
    public static PageRun Screenshot(string htmlPath, string pngPath, int height = Height) =>
        Run(htmlPath, $"--screenshot={pngPath}", $"--window-size={Width},{height}");

    /// <summary>Loads <paramref name="htmlPath"/>, runs its scripts, and returns the serialized DOM.</summary>
    public static PageRun DumpDom(string htmlPath) => Run(htmlPath, "--dump-dom", $"--window-size={Width},{Height}");

    private static PageRun Run(string htmlPath, params string[] action)
    {
        using var profile = TestEnvironment.TempDir();
        string[] args =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--hide-scrollbars", $"--user-data-dir={profile.Path}",
            "--enable-logging=stderr", "--v=0", .. action, new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri,
        ];
        var (code, stdout, stderr) = ProcessRunner.Run(Program, args, timeoutMs: 120_000);
        Assert.True(code == 0, $"chromium exited {code}: {stderr}");
        var console = stderr.Split('\n').Where(l => ConsoleLine().IsMatch(l)).ToList();
        return new PageRun(console, stdout);
    }

    /// <summary>
    /// Copies the report with a probe script that measures, in the browser, each <c>figure.plot</c>: its rendered size
    /// and how many of its shapes (path, line, polyline, polygon, rect, circle, text) have a non-empty bounding box; the
    /// result lands in the body's <c>data-probe</c> attribute of the dumped DOM.
    /// </summary>
    public static IReadOnlyList<PlotProbe> ProbePlots(string reportHtml, string probeDir, out IReadOnlyList<string> console)
    {
        var probe = Path.Combine(probeDir, "probe.html");
        var html = File.ReadAllText(reportHtml);
        Assert.Contains("</body>", html);
        File.WriteAllText(probe, html.Replace("</body>", ProbeScript + "</body>"));
        var run = DumpDom(probe);
        console = run.ConsoleLines;
        var m = ProbeAttribute().Match(run.Stdout);
        Assert.True(m.Success, "the probe did not run: " + run.Stdout[..Math.Min(run.Stdout.Length, 300)]);
        var json = System.Text.Json.JsonDocument.Parse(WebUtility.HtmlDecode(m.Groups[1].Value)).RootElement;
        return json.EnumerateArray().Select(e => new PlotProbe(e.GetProperty("id").GetString()!, e.GetProperty("w").GetDouble(), e.GetProperty("h").GetDouble(),
            e.GetProperty("shapes").GetInt32(), e.GetProperty("texts").GetInt32())).ToList();
    }

    /// <summary>One plot as the browser drew it.</summary>
    public sealed record PlotProbe(string Id, double Width, double Height, int Shapes, int Texts);

    private const string ProbeScript = """
        <script>
        (function () {
          const out = [...document.querySelectorAll('figure.plot')].map(f => {
            const svg = f.querySelector('svg');
            const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
            const drawn = sel => svg ? [...svg.querySelectorAll(sel)].filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length : 0;
            return { id: f.id, w: box.width, h: box.height, shapes: drawn('path,line,polyline,polygon,rect,circle'), texts: drawn('text') };
          });
          document.body.setAttribute('data-probe', JSON.stringify(out));
        })();
        </script>
        """;

    [GeneratedRegex(@"CONSOLE")]
    private static partial Regex ConsoleLine();

    [GeneratedRegex("<body[^>]*data-probe=\"([^\"]*)\"")]
    private static partial Regex ProbeAttribute();
}
