using System.Text;

namespace SharpTune.Evaluation.Report;

/// <summary>
/// Writes a <see cref="ReportDocument"/> as Markdown with the same content as <see cref="ReportHtml"/>: charts are
/// linked as SVG files in <c>CHART_DIR/NAME.svg</c> (written by <see cref="RunReport"/>), tables as pipe tables,
/// highlighted supervised tokens as <c>[[…]]</c>.
/// </summary>
public static class ReportMarkdown
{
    /// <summary>The Markdown text; <paramref name="chartDir"/> is the chart folder relative to the Markdown file.</summary>
    public static string Render(ReportDocument doc, string chartDir)
    {
        var sb = new StringBuilder();
        sb.Append("# ").Append(Line(doc.Title)).Append("\n\n").Append(Line(doc.Subtitle)).Append("\n\n");
        foreach (var s in doc.Sections)
        {
            sb.Append("## ").Append(Line(s.Title)).Append("\n\n");
            if (s.Commands.Count > 0)
            {
                sb.Append("```sh\n");
                foreach (var c in s.Commands) sb.Append(c.Replace("```", "'''")).Append('\n');
                sb.Append("```\n\n");
            }
            foreach (var b in s.Blocks) Block(sb, b, chartDir);
        }
        return sb.ToString();
    }

    private static void Block(StringBuilder sb, ReportBlock block, string chartDir)
    {
        switch (block)
        {
            case TextBlock t: sb.Append(Line(t.Text)).Append("\n\n"); break;
            case MissingBlock m: sb.Append("> **Missing:** ").Append(Line(m.Text)).Append("\n\n"); break;
            case CodeBlock c: sb.Append("```\n").Append(c.Text.Replace("```", "'''").TrimEnd('\n')).Append("\n```\n\n"); break;
            case ChartBlock ch: sb.Append("![").Append(Line(ch.Title)).Append("](").Append(chartDir).Append('/').Append(ch.Name).Append(".svg)\n\n"); break;
            case TableBlock t:
                sb.Append("**").Append(Line(t.Caption)).Append("**\n\n| ").Append(string.Join(" | ", t.Header.Select(Cell))).Append(" |\n|");
                foreach (var _ in t.Header) sb.Append(" --- |");
                sb.Append('\n');
                foreach (var r in t.Rows) sb.Append("| ").Append(string.Join(" | ", r.Select(Cell))).Append(" |\n");
                sb.Append('\n');
                break;
            case MaskedSampleBlock m:
                sb.Append("### ").Append(Line(m.Title)).Append("\n\nSupervised tokens in [[ ]]:\n\n```\n");
                foreach (var span in m.Spans) sb.Append(span.Supervised ? "[[" + span.Text + "]]" : span.Text);
                sb.Append("\n```\n\nSupervised text (the answer it decodes to): `").Append(m.SupervisedText.Replace("`", "'")).Append("`\n\n");
                if (m.Problem is not null) sb.Append("**Flagged:** ").Append(Line(m.Problem)).Append("\n\n");
                break;
            default: throw new ArgumentOutOfRangeException(nameof(block), block.GetType().Name);
        }
    }

    // Markdown-significant characters from data are escaped so they show as typed.
    private static string Line(string s)
    {
        var sb = new StringBuilder();
        foreach (var ch in s.Replace("\r", "").Replace("\n", " "))
        {
            if ("\\`*_{}[]<>#|!".Contains(ch)) sb.Append('\\');
            sb.Append(ch);
        }
        return sb.ToString();
    }

    private static string Cell(string s) => Line(s);
}
