using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using ScottPlot;

namespace SharpTune.Training.Reporting;

/// <summary>
/// Draws a <see cref="ChartSpec"/> with ScottPlot (SkiaSharp) as PNG bytes or an SVG document. Output is deterministic
/// for the same spec on the same machine: the text uses "DejaVu Sans" when installed (Debian's
/// <c>fonts-dejavu-core</c>), and the SVG's clip-path ids, which ScottPlot numbers from a process-wide counter, are
/// renumbered per chart.
/// </summary>
public static class ChartRenderer
{
    /// <summary>The font the charts ask for.</summary>
    public const string FontFamily = "DejaVu Sans";

    private static readonly Lock Gate = new(); // ScottPlot's font cache and SVG id counter are process-wide

    /// <summary>Whether <see cref="FontFamily"/> is installed; without it the text falls back to any font found, or is missing.</summary>
    public static bool FontAvailable
    {
        get { lock (Gate) return Fonts.GetTypeface(FontFamily, false, false)?.FamilyName == FontFamily; }
    }

    /// <summary>The chart as a PNG image.</summary>
    public static byte[] Png(ChartSpec spec)
    {
        lock (Gate) return Build(spec).GetImageBytes(spec.Width, spec.Height, ImageFormat.Png);
    }

    /// <summary>The chart as a standalone SVG document (UTF-8 text, with a <c>viewBox</c> so it scales when inlined in HTML).</summary>
    public static string Svg(ChartSpec spec)
    {
        string raw;
        lock (Gate) raw = Build(spec).GetSvgXml(spec.Width, spec.Height);
        return CleanSvg(raw, spec);
    }

    private static Plot Build(ChartSpec spec)
    {
        var plot = new Plot();
        if (Fonts.GetTypeface(FontFamily, false, false)?.FamilyName == FontFamily) plot.Font.Set(FontFamily);
        plot.HideGrid(); // matplotlib draws no grid by default
        foreach (var b in spec.Bands)
        {
            var span = plot.Add.VerticalSpan(b.Low, b.High);
            span.FillStyle.Color = ParseColor(b.Color).WithAlpha(b.Opacity);
            span.LineStyle.Width = 0;
            span.LegendText = b.Label;
        }
        foreach (var l in spec.Lines)
        {
            if (l.Xs.Length != l.Ys.Length) throw new ArgumentException($"chart {spec.Name}: line '{l.Label}' has {l.Xs.Length} x and {l.Ys.Length} y values");
            if (l.Xs.Length == 0) continue;
            var s = plot.Add.Scatter(l.Xs, l.Ys);
            s.Color = ParseColor(l.Color).WithAlpha(l.Opacity);
            s.LineWidth = (float)l.Width;
            s.MarkerSize = l.Markers || l.Xs.Length == 1 ? 6 : 0;
            s.LegendText = l.Label;
        }
        foreach (var m in spec.Markers)
        {
            var v = plot.Add.VerticalLine(m.X);
            v.Color = ParseColor(m.Color);
            v.LineWidth = (float)m.Width;
            v.LegendText = m.Label ?? "";
        }
        plot.Title(spec.Title, 16);
        plot.Axes.Title.Label.Bold = false;
        plot.XLabel(spec.XLabel, 14);
        plot.YLabel(spec.YLabel, 14);
        plot.Axes.Bottom.Label.Bold = false;
        plot.Axes.Left.Label.Bold = false;
        // Tick labels without ScottPlot's "5E-05": plain decimals, or 5.0e-05 for learning rates.
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = TickLabel };
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = TickLabel, IntegerTicksOnly = true };
        if (spec.LegendOutside) plot.ShowLegend(Edge.Right);
        else plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>A tick label: plain invariant decimals, or <c>5.0e-05</c> style below 0.001.</summary>
    internal static string TickLabel(double v)
    {
        if (v == 0) return "0";
        double a = Math.Abs(v);
        return a < 1e-3 || a >= 1e7
            ? v.ToString("0.0##e+00", CultureInfo.InvariantCulture)
            : Math.Round(v, 10).ToString("0.##########", CultureInfo.InvariantCulture);
    }

    private static ScottPlot.Color ParseColor(string hex) => ScottPlot.Color.FromHex(hex);

    /// <summary>
    /// Makes ScottPlot's SVG self-contained and valid: per-chart clip ids (<c>NAME-clipN</c>), text without stray
    /// whitespace, glyph position lists without the trailing comma browsers reject, a generic font fallback, a
    /// <c>viewBox</c> and a <c>&lt;title&gt;</c>.
    /// </summary>
    internal static string CleanSvg(string svg, ChartSpec spec)
    {
        var doc = XDocument.Parse(svg);
        var root = doc.Root ?? throw new InvalidOperationException("ScottPlot wrote an empty SVG");
        XNamespace ns = root.Name.Namespace;
        if (root.Attribute("viewBox") is null)
            root.SetAttributeValue("viewBox", string.Create(CultureInfo.InvariantCulture, $"0 0 {spec.Width} {spec.Height}"));
        root.AddFirst(new XElement(ns + "title", spec.Title));

        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in root.Descendants())
            if (e.Attribute("id") is { } id)
            {
                var fresh = $"{spec.Name}-clip{ids.Count + 1}";
                ids[id.Value] = fresh;
                id.Value = fresh;
            }
        foreach (var e in root.Descendants())
        {
            foreach (var a in e.Attributes())
            {
                if (a.Value.StartsWith("url(#", StringComparison.Ordinal) && a.Value.EndsWith(')')
                    && ids.TryGetValue(a.Value[5..^1], out var fresh))
                    a.Value = $"url(#{fresh})";
                else if (a.Name.LocalName == "font-family" && !a.Value.Contains("sans-serif", StringComparison.Ordinal))
                    a.Value += ", sans-serif";
            }
            if (e.Name.LocalName == "text")
            {
                foreach (var name in (string[])["x", "y"])
                    if (e.Attribute(name) is { } list) list.Value = list.Value.Trim().TrimEnd(',').Trim();
                if (!e.HasElements) e.Value = e.Value.Trim();
            }
        }

        var sb = new StringBuilder();
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", NewLineChars = "\n", Encoding = new UTF8Encoding(false) };
        using (var w = XmlWriter.Create(new StringWriter(sb, CultureInfo.InvariantCulture), settings)) doc.Save(w);
        return sb.Replace("encoding=\"utf-16\"", "encoding=\"utf-8\"").Append('\n').ToString();
    }
}
