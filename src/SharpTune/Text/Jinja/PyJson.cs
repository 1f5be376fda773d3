using System.Globalization;
using System.Text;

namespace SharpTune.Text.Jinja;

/// <summary>Python's <c>json.dumps</c> as transformers' <c>tojson</c> filter calls it (ensure_ascii=False by default).</summary>
internal static class PyJson
{
    public static string Dumps(object? v, bool ensureAscii, string? indent, string itemSep, string keySep, bool sortKeys)
    {
        var sb = new StringBuilder();
        Write(v, sb, ensureAscii, indent, itemSep, keySep, sortKeys, 0);
        return sb.ToString();
    }

    private static void Write(object? v, StringBuilder sb, bool ascii, string? indent, string itemSep, string keySep, bool sort, int depth)
    {
        if (depth > 200) throw new PyError("ValueError: value nested too deeply for tojson");
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyOps.FloatRepr(d));
                break;
            case string s: WriteString(s, sb, ascii); break;
            case PyList { Kind: not ListKind.Generator } l:
                if (l.Count == 0) { sb.Append("[]"); break; }
                sb.Append('[');
                for (int i = 0; i < l.Count; i++)
                {
                    if (i > 0) sb.Append(itemSep);
                    NewLine(sb, indent, depth + 1);
                    Write(l[i], sb, ascii, indent, itemSep, keySep, sort, depth + 1);
                }
                NewLine(sb, indent, depth);
                sb.Append(']');
                break;
            case PyDict dict:
                if (dict.Count == 0) { sb.Append("{}"); break; }
                sb.Append('{');
                IEnumerable<KeyValuePair<object, object?>> items = dict;
                if (sort) items = PyOps.StableSort(dict.ToList(), kv => PyDict.Out(kv.Key), false);
                bool first = true;
                foreach (var (k, val) in items)
                {
                    if (!first) sb.Append(itemSep);
                    first = false;
                    NewLine(sb, indent, depth + 1);
                    string key = PyDict.Out(k) switch
                    {
                        null => "null",
                        string ks => ks,
                        bool kb => kb ? "true" : "false",
                        long kl => kl.ToString(CultureInfo.InvariantCulture),
                        double kd => PyOps.FloatRepr(kd),
                        _ => throw new PyError($"TypeError: keys must be str, int, float, bool or None, not {PyOps.TypeName(k)}"),
                    };
                    WriteString(key, sb, ascii);
                    sb.Append(keySep);
                    Write(val, sb, ascii, indent, itemSep, keySep, sort, depth + 1);
                }
                NewLine(sb, indent, depth);
                sb.Append('}');
                break;
            default: throw new PyError($"TypeError: Object of type {PyOps.TypeName(v)} is not JSON serializable");
        }
    }

    private static void NewLine(StringBuilder sb, string? indent, int depth)
    {
        if (indent is null) return;
        sb.Append('\n');
        for (int i = 0; i < depth; i++) sb.Append(indent);
    }

    private static void WriteString(string s, StringBuilder sb, bool ascii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c > 0x7e)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
