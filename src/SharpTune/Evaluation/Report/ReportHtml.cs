using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace SharpTune.Evaluation.Report;

/// <summary>
/// Writes a <see cref="ReportDocument"/> as one self-contained HTML file: styles and SVG charts inline, no script,
/// font or image loaded from anywhere. Every text from data is HTML-escaped; charts come from
/// <see cref="Training.Reporting.ChartRenderer.Svg"/> and <see cref="ReportSvg"/>, which escape their text.
/// </summary>
public static partial class ReportHtml
{
    private const string Style = """
        body{font-family:"DejaVu Sans",system-ui,sans-serif;max-width:1100px;margin:0 auto;padding:1em 1.5em;color:#222;line-height:1.45}
        h1{font-size:1.7em;margin-bottom:.2em} h2{border-bottom:2px solid #1f77b4;padding-bottom:.2em;margin-top:2em}
        nav a{margin-right:1em} .sub{color:#555}
        pre{background:#f5f5f5;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
        .cmd{background:#eef3f8;border-left:4px solid #1f77b4;padding:.3em .6em;font-family:monospace;margin:.3em 0;overflow-x:auto}
        .missing{background:#fff4e5;border-left:4px solid #ff7f0e;padding:.4em .6em}
        table{border-collapse:collapse;margin:.8em 0;font-size:.92em;display:block;overflow-x:auto;max-width:100%}
        p.caption{font-weight:bold;margin:1em 0 .2em}
        th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top} th{background:#f0f0f0}
        td.num{text-align:right;font-variant-numeric:tabular-nums}
        figure.plot{margin:1em 0} figure.plot svg{max-width:100%;height:auto;display:block}
        figcaption{color:#555;font-size:.9em}
        .sample{font-family:monospace;white-space:pre-wrap;word-break:break-word;background:#fafafa;border:1px solid #ddd;padding:.5em}
        .sup{background:#c7e9c0;border-bottom:2px solid #2ca02c} .masked{color:#777}
        .problem{color:#d62728;font-weight:bold}
        """;

    /// <summary>The HTML text.</summary>
    public static string Render(ReportDocument doc)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<title>").Append(E(doc.Title)).Append("</title>\n<style>").Append(Style).Append("</style></head>\n<body>\n");
        sb.Append("<h1>").Append(E(doc.Title)).Append("</h1>\n<p class=\"sub\">").Append(E(doc.Subtitle)).Append("</p>\n<nav>");
        foreach (var s in doc.Sections) sb.Append("<a href=\"#").Append(E(s.Id)).Append("\">").Append(E(s.Title)).Append("</a>");
        sb.Append("</nav>\n");
        foreach (var s in doc.Sections)
        {
            sb.Append("<section id=\"").Append(E(s.Id)).Append("\">\n<h2>").Append(E(s.Title)).Append("</h2>\n");
            foreach (var c in s.Commands) sb.Append("<div class=\"cmd\">$ ").Append(E(c)).Append("</div>\n");
            foreach (var b in s.Blocks) Block(sb, b);
            sb.Append("</section>\n");
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static void Block(StringBuilder sb, ReportBlock block)
    {
        switch (block)
        {
            case TextBlock t: sb.Append("<p>").Append(E(t.Text)).Append("</p>\n"); break;
            case MissingBlock m: sb.Append("<p class=\"missing\">").Append(E(m.Text)).Append("</p>\n"); break;
            case CodeBlock c: sb.Append("<pre>").Append(E(c.Text)).Append("</pre>\n"); break;
            case ChartBlock ch:
                sb.Append("<figure class=\"plot\" id=\"plot-").Append(E(ch.Name)).Append("\">").Append(ch.Svg)
                  .Append("<figcaption>").Append(E(ch.Title)).Append("</figcaption></figure>\n");
                break;
            case TableBlock t:
                sb.Append("<p class=\"caption\">").Append(E(t.Caption)).Append("</p>\n<table><thead><tr>");
                foreach (var h in t.Header) sb.Append("<th>").Append(E(h)).Append("</th>");
                sb.Append("</tr></thead><tbody>\n");
                for (int r = 0; r < t.Rows.Count; r++)
                {
                    sb.Append("<tr>");
                    for (int c = 0; c < t.Rows[r].Count; c++)
                    {
                        double? shade = t.Shade is { } sh && r < sh.Count && c < sh[r].Count ? sh[r][c] : null;
                        string cls = c > 0 && Numeric().IsMatch(t.Rows[r][c]) ? " class=\"num\"" : "";
                        sb.Append(shade is double v
                            ? string.Create(CultureInfo.InvariantCulture, $"<td{cls} style=\"background:rgba(31,119,180,{0.08 + 0.6 * Math.Clamp(v, 0, 1):0.###})\">")
                            : $"<td{cls}>");
                        sb.Append(E(t.Rows[r][c])).Append("</td>");
                    }
                    sb.Append("</tr>\n");
                }
                sb.Append("</tbody></table>\n");
                break;
            case MaskedSampleBlock m:
                sb.Append("<h3>").Append(E(m.Title)).Append("</h3>\n<div class=\"sample\">");
                foreach (var span in m.Spans) sb.Append(span.Supervised ? "<span class=\"sup\">" : "<span class=\"masked\">").Append(E(span.Text)).Append("</span>");
                sb.Append("</div>\n<p>Supervised text (the answer it decodes to): <code>").Append(E(m.SupervisedText)).Append("</code></p>\n");
                if (m.Problem is not null) sb.Append("<p class=\"problem\">Flagged: ").Append(E(m.Problem)).Append("</p>\n");
                break;
            default: throw new ArgumentOutOfRangeException(nameof(block), block.GetType().Name);
        }
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);

    // Numbers, percentages, intervals and "–" line up on the right.
    [GeneratedRegex(@"^(–|\[?-?[0-9][0-9,.]*(%|e-?[0-9]+)?(, -?[0-9.]+\])?( \([0-9.]+%?\))?)$")]
    private static partial Regex Numeric();
}
