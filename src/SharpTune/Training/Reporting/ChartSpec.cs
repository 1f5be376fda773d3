namespace SharpTune.Training.Reporting;

/// <summary>
/// What one training chart shows, independent of how it is drawn: titles, lines, shaded value bands and vertical step
/// markers. <see cref="ChartRenderer"/> draws it as PNG and SVG.
/// </summary>
/// <param name="Name">File stem, e.g. <c>training_loss</c>; also the prefix of the SVG's element ids.</param>
/// <param name="Title">Title above the plot.</param>
/// <param name="XLabel">Label of the x axis.</param>
/// <param name="YLabel">Label of the y axis.</param>
public sealed record ChartSpec(string Name, string Title, string XLabel, string YLabel)
{
    /// <summary>Data lines, drawn in order over the bands.</summary>
    public IReadOnlyList<ChartLine> Lines { get; init; } = [];

    /// <summary>Horizontal bands of y values (e.g. the healthy range), drawn under the lines.</summary>
    public IReadOnlyList<ChartBand> Bands { get; init; } = [];

    /// <summary>Vertical lines at x values (e.g. checkpoint steps).</summary>
    public IReadOnlyList<ChartMarker> Markers { get; init; } = [];

    /// <summary>Image width in pixels (LLaMA-Factory's matplotlib figure: 6.4 in at 100 dpi).</summary>
    public int Width { get; init; } = 640;

    /// <summary>Image height in pixels (4.8 in at 100 dpi).</summary>
    public int Height { get; init; } = 480;

    /// <summary>Legend beside the plot (right) instead of inside its upper right corner.</summary>
    public bool LegendOutside { get; init; }
}

/// <summary>A data line.</summary>
/// <param name="Label">Legend text.</param>
/// <param name="Xs">X values (steps).</param>
/// <param name="Ys">Y values, as many as <paramref name="Xs"/>.</param>
/// <param name="Color">Color as <c>#rrggbb</c>.</param>
/// <param name="Opacity">0–1.</param>
/// <param name="Width">Line width in pixels.</param>
/// <param name="Markers">Draw a dot at each point (sparse series such as evaluations).</param>
public sealed record ChartLine(string Label, double[] Xs, double[] Ys, string Color, double Opacity = 1, double Width = 2, bool Markers = false);

/// <summary>A shaded range of y values across the whole plot.</summary>
/// <param name="Label">Legend text.</param>
/// <param name="Low">Lower y.</param>
/// <param name="High">Upper y.</param>
/// <param name="Color">Color as <c>#rrggbb</c>.</param>
/// <param name="Opacity">Fill opacity 0–1.</param>
public sealed record ChartBand(string Label, double Low, double High, string Color, double Opacity);

/// <summary>A vertical line at one x value.</summary>
/// <param name="Label">Legend text, or null to share the legend entry of an earlier marker.</param>
/// <param name="X">The x value (step).</param>
/// <param name="Color">Color as <c>#rrggbb</c>.</param>
/// <param name="Width">Line width in pixels.</param>
public sealed record ChartMarker(string? Label, double X, string Color, double Width = 1);
