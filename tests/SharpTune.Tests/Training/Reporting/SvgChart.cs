using System.Globalization;
using System.Xml.Linq;

namespace SharpTune.Tests.Training.Reporting;

/// <summary>
/// Reads what a chart SVG draws: its texts, and the elements inside the plot's data area (groups clipped to the
/// first clip rectangle, which ScottPlot gives every plottable), so tests can count lines and bands by color.
/// </summary>
internal sealed class SvgChart
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    public SvgChart(string path)
    {
        Document = XDocument.Load(path);
        var root = Document.Root!;
        Width = double.Parse(root.Attribute("width")!.Value, CultureInfo.InvariantCulture);
        Height = double.Parse(root.Attribute("height")!.Value, CultureInfo.InvariantCulture);
        Texts = [.. root.Descendants(Svg + "text").Select(t => t.Value)];
        Title = root.Element(Svg + "title")?.Value;
        var clips = root.Descendants(Svg + "clipPath").ToDictionary(c => c.Attribute("id")!.Value, c => Geometry(c.Element(Svg + "rect")!));
        var dataArea = Geometry(root.Descendants(Svg + "clipPath").First().Element(Svg + "rect")!);
        DataElements = [.. root.Descendants(Svg + "g")
            .Where(g => g.Attribute("clip-path") is { } a && clips.TryGetValue(a.Value[5..^1], out var r) && r == dataArea)
            .SelectMany(g => g.Elements())];
        ClipIds = [.. clips.Keys];
    }

    public XDocument Document { get; }

    public double Width { get; }

    public double Height { get; }

    public string? Title { get; }

    public IReadOnlyList<string> Texts { get; }

    public IReadOnlyList<XElement> DataElements { get; }

    public IReadOnlyList<string> ClipIds { get; }

    /// <summary>Stroked paths in the data area with this color (and opacity: null means fully opaque).</summary>
    public IReadOnlyList<XElement> Lines(string color, double? opacity = null) =>
        [.. DataElements.Where(e => e.Name == Svg + "path" && e.Attribute("fill")?.Value == "none"
            && string.Equals(e.Attribute("stroke")?.Value, color, StringComparison.OrdinalIgnoreCase)
            && Opacity(e, "stroke-opacity") is var o && (opacity is null ? o == 1 : Math.Abs(o - opacity.Value) < 0.01))];

    /// <summary>Filled rectangles in the data area with this color (shaded bands).</summary>
    public IReadOnlyList<XElement> Bands(string color) =>
        [.. DataElements.Where(e => e.Name == Svg + "rect" && string.Equals(e.Attribute("fill")?.Value, color, StringComparison.OrdinalIgnoreCase))];

    /// <summary>Every stroked path in the data area.</summary>
    public int StrokedPathCount => DataElements.Count(e => e.Name == Svg + "path" && e.Attribute("fill")?.Value == "none");

    /// <summary>Every rectangle in the data area.</summary>
    public int RectCount => DataElements.Count(e => e.Name == Svg + "rect");

    /// <summary>Points of a path's <c>d</c> (one M and an L per further point).</summary>
    public static int PointCount(XElement path) => path.Attribute("d")!.Value.Count(c => c is 'M' or 'L');

    public static double Attr(XElement e, string name) => double.Parse(e.Attribute(name)!.Value, CultureInfo.InvariantCulture);

    private static double Opacity(XElement e, string name) => e.Attribute(name) is { } a ? double.Parse(a.Value, CultureInfo.InvariantCulture) : 1;

    private static (string, string, string, string) Geometry(XElement rect) =>
        (rect.Attribute("x")!.Value, rect.Attribute("y")!.Value, rect.Attribute("width")!.Value, rect.Attribute("height")!.Value);
}
