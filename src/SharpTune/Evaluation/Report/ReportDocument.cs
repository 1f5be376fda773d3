namespace SharpTune.Evaluation.Report;

/// <summary>One piece of a report section. The HTML and Markdown writers render the same blocks, so both files hold the same content.</summary>
public abstract record ReportBlock;

/// <summary>A paragraph of plain text (escaped when written).</summary>
public sealed record TextBlock(string Text) : ReportBlock;

/// <summary>What a section could not show and why (an input that is missing or unreadable).</summary>
public sealed record MissingBlock(string Text) : ReportBlock;

/// <summary>Preformatted text (a config file, a command's output).</summary>
public sealed record CodeBlock(string Text) : ReportBlock;

/// <summary>A table. <paramref name="Shade"/>, when given, holds one 0–1 intensity per cell (a heat map, e.g. the confusion matrix) or null for an unshaded cell.</summary>
public sealed record TableBlock(string Caption, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows, IReadOnlyList<IReadOnlyList<double?>>? Shade = null) : ReportBlock;

/// <summary>A chart as a cleaned, inline-safe SVG document; <paramref name="Name"/> is its file stem in the Markdown report's folder.</summary>
public sealed record ChartBlock(string Name, string Title, string Svg) : ReportBlock;

/// <summary>A run of a sample's text, supervised (has a label) or masked.</summary>
public sealed record TokenSpan(string Text, bool Supervised);

/// <summary>One processed sample with its supervised tokens highlighted and the answer they decode to.</summary>
public sealed record MaskedSampleBlock(string Title, IReadOnlyList<TokenSpan> Spans, string SupervisedText, string? Problem) : ReportBlock;

/// <summary>A report section: its title, the command that produced its inputs, and its blocks.</summary>
/// <param name="Id">HTML anchor, e.g. <c>training</c>.</param>
/// <param name="Title">Heading.</param>
/// <param name="Commands">The commands that produced what the section shows.</param>
/// <param name="Blocks">Content, in order.</param>
public sealed record ReportSection(string Id, string Title, IReadOnlyList<string> Commands, IReadOnlyList<ReportBlock> Blocks);

/// <summary>A whole report: title, a line saying what it is about, and its sections.</summary>
public sealed record ReportDocument(string Title, string Subtitle, IReadOnlyList<ReportSection> Sections);
