using System.Globalization;
using System.Net;
using System.Text;

namespace SharpTune.Evaluation.Report;

    /// <summary>
    /// The report's own charts as small inline SVG documents with axes, labels and a legend: the token-length histogram
    /// (with the cutoff marked) and metrics with their intervals. Every text from data is XML-escaped; sizes are in a
    /// viewBox so the chart scales to the page width.
    /// </summary>
public static class ReportSvg
{
    private const int Width = 800, Height = 380, Left = 70, Right = 20, Top = 64, Bottom = 60; // the legend sits above Top
    private const string Bar = "#1f77b4", Over = "#d62728", Axis = "#333", Grid = "#ddd";

    /// <summary>One bar of a histogram: the half-open range [Low, High) and its count.</summary>
    public sealed record Bin(int Low, int High, int Count);

    /// <summary>
    /// Bins <paramref name="lengths"/> into about <paramref name="bins"/> equal ranges over the data (min to max); when
    /// <paramref name="cutoff"/> falls inside, the bins are shifted so that <c>cutoff + 1</c> is an edge (a sample is
    /// over when longer than the cutoff), so each bar is wholly within or over it.
    /// </summary>
    public static List<Bin> Histogram(IReadOnlyList<int> lengths, int? cutoff, int bins = 24)
    {
        if (lengths.Count == 0) return [];
        int lo = lengths.Min(), hi = lengths.Max() + 1;
        int width = Math.Max(1, (int)Math.Ceiling((hi - lo) / (double)bins));
        int start = cutoff is int c && c + 1 > lo && c + 1 < hi ? c + 1 - (int)Math.Ceiling((c + 1 - lo) / (double)width) * width : lo;
        int n = (hi - start + width - 1) / width;
        var counts = new int[n];
        foreach (var l in lengths) counts[(l - start) / width]++;
        return Enumerable.Range(0, n).Select(i => new Bin(start + i * width, start + (i + 1) * width, counts[i])).ToList();
    }

    /// <summary>
    /// The token-length histogram: bars within the cutoff in blue, over it in red, the cutoff as a dashed line. The axis
    /// spans the data, stretched to the cutoff when that is near (within half the data's span again); a cutoff far
    /// beyond every sample is named in the legend instead, so the bars keep their resolution.
    /// </summary>
    public static string LengthHistogram(IReadOnlyList<Bin> bins, int? cutoff, string title)
    {
        var sb = Begin(title);
        double xMin = bins.Count == 0 ? 0 : bins[0].Low, xMax = bins.Count == 0 ? 1 : bins[^1].High;
        bool cutoffOnAxis = cutoff is int co && co + 1 >= xMin && co + 1 <= Math.Max(xMax, 1.5 * xMax - 0.5 * xMin);
        if (cutoffOnAxis) xMax = Math.Max(xMax, cutoff!.Value + 1 + (xMax - xMin) / 20);
        int yMax = Math.Max(1, bins.Count == 0 ? 1 : bins.Max(b => b.Count));
        double X(double v) => Left + (v - xMin) / (xMax - xMin) * (Width - Left - Right);
        double Y(double v) => Height - Bottom - v / yMax * (Height - Top - Bottom);
        YAxis(sb, yMax, Y, "samples");
        XAxis(sb, xMin, xMax, X, "tokens per sample (before truncation)");
        sb.Append("<g class=\"bars\">");
        foreach (var b in bins.Where(b => b.Count > 0))
        {
            bool over = cutoff is int c && b.Low > c;
            sb.Append(CultureInfo.InvariantCulture,
                $"<rect x=\"{X(b.Low):0.##}\" y=\"{Y(b.Count):0.##}\" width=\"{Math.Max(1, X(b.High) - X(b.Low) - 1):0.##}\" height=\"{Y(0) - Y(b.Count):0.##}\" fill=\"{(over ? Over : Bar)}\"><title>{b.Low}–{b.High - 1}: {b.Count}</title></rect>");
        }
        sb.Append("</g>");
        var legend = new List<(string, string, bool)> { ("within cutoff_len", Bar, false) };
        if (cutoff is int cut && cutoffOnAxis)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line class=\"cutoff\" x1=\"{X(cut + 1):0.##}\" x2=\"{X(cut + 1):0.##}\" y1=\"{Top}\" y2=\"{Height - Bottom}\" stroke=\"{Over}\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>");
            legend.Add(($"over cutoff_len ({cut})", Over, false));
        }
        else if (cutoff is int far) legend.Add(($"cutoff_len {far}: beyond the axis", Over, true));
        Legend(sb, legend);
        return End(sb);
    }

    /// <summary>One row of the metric chart: a name, a value and its interval (null when there is none).</summary>
    public sealed record IntervalPoint(string Name, double Value, double? Low, double? High, bool Highlight);

    /// <summary>Horizontal dot-and-whisker chart of a metric (0–1) for several results, e.g. the model beside the baselines.</summary>
    public static string Intervals(IReadOnlyList<IntervalPoint> points, string metric, string title)
    {
        const int rowHeight = 34, labelWidth = 230, top = Top + 6;
        int height = top + Bottom + Math.Max(1, points.Count) * rowHeight;
        var sb = Begin(title, height);
        double X(double v) => labelWidth + v * (Width - labelWidth - Right);
        double axisY = height - Bottom;
        for (int t = 0; t <= 10; t += 2)
        {
            double v = t / 10.0, x = X(v);
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.##}\" x2=\"{x:0.##}\" y1=\"{top}\" y2=\"{axisY}\" stroke=\"{Grid}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:0.##}\" y=\"{axisY + 18}\" text-anchor=\"middle\" font-size=\"13\">{v:0.0}</text>");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(0)}\" x2=\"{X(1)}\" y1=\"{axisY}\" y2=\"{axisY}\" stroke=\"{Axis}\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(0.5):0.##}\" y=\"{axisY + 40}\" text-anchor=\"middle\" font-size=\"14\">{Esc(metric)}</text>");
        sb.Append("<g class=\"points\">");
        for (int i = 0; i < points.Count; i++)
        {
            var p = points[i];
            double y = top + i * rowHeight + rowHeight / 2.0;
            string color = p.Highlight ? "#9467bd" : Bar;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth - 10}\" y=\"{y + 5:0.##}\" text-anchor=\"end\" font-size=\"13\"{(p.Highlight ? " font-weight=\"bold\"" : "")}>{Esc(p.Name)}</text>");
            if (p.Low is double lo && p.High is double hi)
                sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(Clamp(lo)):0.##}\" x2=\"{X(Clamp(hi)):0.##}\" y1=\"{y:0.##}\" y2=\"{y:0.##}\" stroke=\"{color}\" stroke-width=\"3\"><title>{lo:0.000}–{hi:0.000}</title></line>");
            sb.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(Clamp(p.Value)):0.##}\" cy=\"{y:0.##}\" r=\"6\" fill=\"{color}\"><title>{Esc(p.Name)}: {p.Value:0.000}</title></circle>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(Clamp(p.Value)) + 10:0.##}\" y=\"{y - 8:0.##}\" font-size=\"12\">{p.Value:0.000}</text>");
        }
        sb.Append("</g>");
        Legend(sb, [("model", "#9467bd", false), ("baseline", Bar, false), ("interval", Axis, true)]);
        return End(sb);
    }

    private static double Clamp(double v) => Math.Clamp(v, 0, 1);

    private static StringBuilder Begin(string title, int height = Height)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {height}\" width=\"{Width}\" height=\"{height}\" font-family=\"DejaVu Sans, sans-serif\" role=\"img\">");
        sb.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{height}\" fill=\"#fff\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">{Esc(title)}</text>");
        return sb;
    }

    private static string End(StringBuilder sb) => sb.Append("</svg>").ToString();

    private static void YAxis(StringBuilder sb, int yMax, Func<double, double> y, string label)
    {
        int step = NiceStep(yMax);
        for (int v = 0; v <= yMax; v += step)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y(v):0.##}\" y2=\"{y(v):0.##}\" stroke=\"{Grid}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 8}\" y=\"{y(v) + 4:0.##}\" text-anchor=\"end\" font-size=\"12\">{v}</text>");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Left}\" y1=\"{Top}\" y2=\"{Height - Bottom}\" stroke=\"{Axis}\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(18 {(Top + Height - Bottom) / 2}) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">{Esc(label)}</text>");
    }

    private static void XAxis(StringBuilder sb, double xMin, double xMax, Func<double, double> x, string label)
    {
        int step = NiceStep((int)Math.Ceiling(xMax - xMin));
        for (int v = (int)Math.Ceiling(xMin / step) * step; v <= xMax; v += step)
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x(v):0.##}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\" font-size=\"12\">{v}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Height - Bottom}\" y2=\"{Height - Bottom}\" stroke=\"{Axis}\"/>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 16}\" text-anchor=\"middle\" font-size=\"14\">{Esc(label)}</text>");
    }

    private static void Legend(StringBuilder sb, IReadOnlyList<(string Label, string Color, bool Line)> items)
    {
        double x = Width - Right - 10 - items.Sum(i => LegendWidth(i.Label));
        sb.Append("<g class=\"legend\">");
        foreach (var (label, color, line) in items)
        {
            sb.Append(line
                ? string.Create(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.##}\" x2=\"{x + 14:0.##}\" y1=\"45\" y2=\"45\" stroke=\"{color}\" stroke-width=\"3\"/>")
                : string.Create(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.##}\" y=\"38\" width=\"14\" height=\"14\" fill=\"{color}\"/>"));
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 20:0.##}\" y=\"50\" font-size=\"12\">{Esc(label)}</text>");
            x += LegendWidth(label);
        }
        sb.Append("</g>");
    }

    // 12 px DejaVu Sans averages about 7.5 px a character; the swatch and gaps take 34.
    private static double LegendWidth(string label) => 34 + 7.5 * label.Length;

    private static int NiceStep(int max)
    {
        foreach (var s in new[] { 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000 })
            if (max / s <= 8) return s;
        return Math.Max(1, max / 8);
    }

    private static string Esc(string s) => WebUtility.HtmlEncode(s);
}
