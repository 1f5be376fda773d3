using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SharpTune.Text.Jinja;

/// <summary>jinja2's built-in filters with 3.1 semantics, plus transformers' <c>tojson</c>.</summary>
internal static partial class Filters
{
    public delegate object? Fn(Evaluator ev, object? value, List<object?> args, List<KeyValuePair<string, object?>>? kwargs);

    private static readonly Dictionary<string, Fn> Table = new(StringComparer.Ordinal)
    {
        ["trim"] = (ev, v, a, kw) => Methods.Strip(ev, SoftStr(v), Args.Get(a, kw, 0, "chars", null), true, true),
        ["tojson"] = ToJson,
        ["length"] = (_, v, _, _) => Box.Int(PyOps.Length(v)),
        ["count"] = (_, v, _, _) => Box.Int(PyOps.Length(v)),
        ["upper"] = (_, v, _, _) => SoftStr(v).ToUpperInvariant(),
        ["lower"] = (_, v, _, _) => SoftStr(v).ToLowerInvariant(),
        ["title"] = (_, v, _, _) => Title(SoftStr(v)),
        ["capitalize"] = (_, v, _, _) => SoftStr(v) is var s && s.Length > 0 ? char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant() : "",
        ["join"] = Join,
        ["default"] = Default,
        ["d"] = Default,
        ["first"] = (_, v, _, _) => PyOps.Iterate(v).Take(1).ToList() is { Count: 1 } l ? l[0] : new Undefined("No first item, sequence was empty."),
        ["last"] = (_, v, _, _) => Reversed(v).Take(1).ToList() is { Count: 1 } l ? l[0] : new Undefined("No last item, sequence was empty."),
        ["list"] = (_, v, _, _) => new PyList(PyOps.Iterate(v)),
        ["map"] = Map,
        ["select"] = (ev, v, a, kw) => Select(ev, v, a, kw, keep: true, byAttr: false),
        ["reject"] = (ev, v, a, kw) => Select(ev, v, a, kw, keep: false, byAttr: false),
        ["selectattr"] = (ev, v, a, kw) => Select(ev, v, a, kw, keep: true, byAttr: true),
        ["rejectattr"] = (ev, v, a, kw) => Select(ev, v, a, kw, keep: false, byAttr: true),
        ["items"] = (_, v, _, _) => v switch
        {
            Undefined => new PyList([], ListKind.Generator),
            PyDict d => new PyList(d.Select(kv => (object?)new PyList(2) { PyDict.Out(kv.Key), kv.Value }.AsTuple()), ListKind.Generator),
            _ => throw new PyError("TypeError: Can only get item pairs from a mapping."),
        },
        ["replace"] = (ev, v, a, kw) =>
        {
            var cnt = Args.Get(a, kw, 2, "count", null);
            var rm = new List<object?> { Args.Get(a, kw, 0, "old", null), Args.Get(a, kw, 1, "new", null) };
            if (cnt is not null) rm.Add(cnt);
            return Methods.Call(ev, SoftStr(v), "replace", rm, null);
        },
        ["string"] = (_, v, _, _) => SoftStr(v),
        ["int"] = ToInt,
        ["float"] = ToFloat,
        ["abs"] = (_, v, _, _) => v switch
        {
            long l => Box.Int(Math.Abs(l)),
            double d => Math.Abs(d),
            bool b => Box.Int(b ? 1 : 0),
            _ => throw new PyError($"TypeError: bad operand type for abs(): '{PyOps.TypeName(v)}'"),
        },
        ["round"] = Round,
        ["unique"] = Unique,
        ["sort"] = Sort,
        ["dictsort"] = DictSort,
        ["reverse"] = (_, v, _, _) => v is string s ? (string)PyOps.Slice(s, null, null, -1)! : new PyList(Reversed(v), ListKind.Generator),
        ["safe"] = (_, v, _, _) => v,
        ["escape"] = (_, v, _, _) => Escape(v),
        ["e"] = (_, v, _, _) => Escape(v),
        ["forceescape"] = (_, v, _, _) => Escape(v),
        ["indent"] = Indent,
        ["center"] = (ev, v, a, kw) => Methods.Call(ev, SoftStr(v), "center", [Args.Get(a, kw, 0, "width", Box.Int(80))], null),
        ["wordcount"] = (_, v, _, _) => Box.Int(WordRe().Matches(SoftStr(v)).Count),
        ["format"] = (_, v, a, _) => Methods.PercentFormat(SoftStr(v), new PyList(a, ListKind.Tuple)),
        ["attr"] = (ev, v, a, _) => v is PyDict && Args.Str(a.Count > 0 ? a[0] : null, "attr name") is var n && !Methods.IsDictMethod(n)
            ? new Undefined($"'dict object' has no attribute '{n}'")
            : ev.GetAttr(v, Args.Str(a.Count > 0 ? a[0] : null, "attr name")),
        ["min"] = (ev, v, a, kw) => MinMax(v, a, kw, min: true),
        ["max"] = (ev, v, a, kw) => MinMax(v, a, kw, min: false),
        ["sum"] = Sum,
        ["batch"] = (_, _, _, _) => throw new PyError("the 'batch' filter is not supported"),
    };

    public static bool Exists(string name) => Table.ContainsKey(name);

    public static Fn? Find(string name) => Table.TryGetValue(name, out var f) ? f : null;

    private static string SoftStr(object? v) => v as string ?? PyOps.Str(v);

    private static object? ToJson(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        bool ascii = PyOps.Truthy(Args.Get(a, kw, 0, "ensure_ascii", Box.False));
        var ind = Args.Get(a, kw, 1, "indent", null);
        var seps = Args.Get(a, kw, 2, "separators", null);
        bool sort = PyOps.Truthy(Args.Get(a, kw, 3, "sort_keys", Box.False));
        string? indent = ind switch
        {
            null => null,
            string s => s,
            long n => new string(' ', (int)Math.Clamp(n, 0, 64)),
            _ => throw new PyError("TypeError: tojson indent must be an int or a str"),
        };
        string itemSep = indent is null ? ", " : ",", keySep = ": ";
        if (seps is PyList { Count: 2 } sp) { itemSep = Args.Str(sp[0], "separator"); keySep = Args.Str(sp[1], "separator"); }
        else if (seps is not null) throw new PyError("ValueError: separators must be a (item_separator, key_separator) pair");
        return PyJson.Dumps(v, ascii, indent, itemSep, keySep, sort);
    }

    private static object? Default(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        bool boolean = PyOps.Truthy(Args.Get(a, kw, 1, "boolean", Box.False));
        if (v is Undefined || (boolean && !PyOps.Truthy(v))) return Args.Get(a, kw, 0, "default_value", "");
        return v;
    }

    private static object? Join(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        string sep = SoftStr(Args.Get(a, kw, 0, "d", ""));
        var attr = Args.Get(a, kw, 1, "attribute", null);
        var items = PyOps.Iterate(v);
        if (attr is not null) items = items.Select(x => Attribute(ev, x, attr)).ToList();
        var parts = items.Select(SoftStr).ToList();
        return Methods.Call(ev, sep, "join", [new PyList(parts.Cast<object?>())], null);
    }

    /// <summary>jinja2's attribute getter: dotted paths, integer parts index.</summary>
    private static object? Attribute(Evaluator ev, object? item, object? attr)
    {
        if (attr is long or bool) return ev.GetItem(item, attr);
        foreach (var part in Args.Str(attr, "attribute").Split('.'))
            item = int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? ev.GetItem(item, Box.Int(i)) : ev.GetItem(item, part);
        return item;
    }

    private static object? Map(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        // jinja2 iterates only a truthy value: none | map(...) is empty.
        var items = PyOps.Truthy(v) ? PyOps.Iterate(v) : [];
        if (a.Count == 0 && kw is not null && kw.Exists(k => k.Key == "attribute"))
        {
            var attr = kw.First(k => k.Key == "attribute").Value;
            var dflt = kw.FirstOrDefault(k => k.Key == "default");
            return new PyList(items.Select(x =>
            {
                var r = Attribute(ev, x, attr);
                return r is Undefined && dflt.Key is not null ? dflt.Value : r;
            }).ToList(), ListKind.Generator);
        }
        if (a.Count == 0) throw new PyError("map requires a filter argument");
        var name = Args.Str(a[0], "filter name");
        var f = Find(name) ?? throw new PyError($"TemplateRuntimeError: No filter named '{name}'.");
        var rest = a.Skip(1).ToList();
        return new PyList(items.Select(x => f(ev, x, rest, kw)).ToList(), ListKind.Generator);
    }

    private static object? Select(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw, bool keep, bool byAttr)
    {
        int off = 0;
        object? attr = null;
        if (byAttr)
        {
            if (a.Count == 0) throw new PyError("TypeError: selectattr needs an attribute name");
            attr = a[0];
            off = 1;
        }
        Func<object?, bool> test;
        if (a.Count > off)
        {
            var name = Args.Str(a[off], "test name");
            var t = Tests.Find(name) ?? throw new PyError($"TemplateRuntimeError: No test named '{name}'.");
            var rest = a.Skip(off + 1).ToList();
            test = x => t(ev, x, rest, null);
        }
        else test = PyOps.Truthy;
        var result = new PyList { Kind = ListKind.Generator };
        if (!PyOps.Truthy(v)) return result;
        foreach (var x in PyOps.Iterate(v))
            if (test(byAttr ? Attribute(ev, x, attr) : x) == keep) result.Add(x);
        return result;
    }

    private static object? ToInt(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        var dflt = Args.Get(a, kw, 0, "default", Box.Int(0));
        int radix = (int)Args.Int(Args.Get(a, kw, 1, "base", Box.Int(10)), "base");
        switch (v)
        {
            case Undefined u: throw u.Error(); // int(Undefined) raises UndefinedError, which the filter does not catch
            case long: return v;
            case bool b: return Box.Int(b ? 1 : 0);
            case double d: return double.IsFinite(d) ? Box.Int((long)Math.Truncate(d)) : dflt;
            case string s:
                var t = s.Trim().Replace("_", "");
                try
                {
                    if (radix == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return Box.Int(l);
                    if (radix != 10) return Box.Int(Convert.ToInt64(t, radix));
                }
                catch (Exception e) when (e is FormatException or ArgumentException or OverflowException) { }
                return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && double.IsFinite(f) ? Box.Int((long)Math.Truncate(f)) : dflt;
            default: return dflt;
        }
    }

    private static object? ToFloat(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        var dflt = Args.Get(a, kw, 0, "default", 0.0);
        return v switch
        {
            Undefined u => throw u.Error(),
            double => v,
            long l => (double)l,
            bool b => b ? 1.0 : 0.0,
            string s => ParseFloat(s.Trim()) ?? dflt,
            _ => dflt,
        };
    }

    private static object? ParseFloat(string s)
    {
        string l = s.ToLowerInvariant().TrimStart('+');
        if (l is "inf" or "infinity") return s.StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
        if (l is "-inf" or "-infinity") return double.NegativeInfinity;
        if (l is "nan" or "-nan") return double.NaN;
        return double.TryParse(s.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
    }

    private static object? Round(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        int p = (int)Args.Int(Args.Get(a, kw, 0, "precision", Box.Int(0)), "precision");
        var method = Args.Str(Args.Get(a, kw, 1, "method", "common"), "method");
        if (method == "common")
        {
            if (v is long or bool) return v is bool b ? Box.Int(b ? 1 : 0) : v;
            if (v is not double d) throw new PyError($"TypeError: type {PyOps.TypeName(v)} doesn't define __round__ method");
            return Math.Round(d, Math.Clamp(p, 0, 15), MidpointRounding.ToEven);
        }
        double x = v switch { long l => l, double dd => dd, bool bb => bb ? 1 : 0, _ => throw new PyError("TypeError: round needs a number") };
        double m = Math.Pow(10, p);
        return method switch
        {
            "ceil" => Math.Ceiling(x * m) / m,
            "floor" => Math.Floor(x * m) / m,
            _ => throw new PyError("FilterArgumentError: method must be common, ceil or floor"),
        };
    }

    private static object? CaseKey(object? x, bool caseSensitive) => !caseSensitive && x is string s ? s.ToLowerInvariant() : x;

    private static object? Unique(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        bool cs = PyOps.Truthy(Args.Get(a, kw, 0, "case_sensitive", Box.False));
        var attr = Args.Get(a, kw, 1, "attribute", null);
        var seen = new List<object?>();
        var r = new PyList { Kind = ListKind.Generator };
        foreach (var x in PyOps.Iterate(v))
        {
            var key = CaseKey(attr is null ? x : Attribute(ev, x, attr), cs);
            if (!PyOps.IsHashable(key)) throw new PyError($"TypeError: unhashable type: '{PyOps.TypeName(key)}'");
            if (seen.Exists(s => PyOps.Eq(s, key))) continue;
            seen.Add(key);
            r.Add(x);
        }
        return r;
    }

    private static object? Sort(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        bool rev = PyOps.Truthy(Args.Get(a, kw, 0, "reverse", Box.False));
        bool cs = PyOps.Truthy(Args.Get(a, kw, 1, "case_sensitive", Box.False));
        var attr = Args.Get(a, kw, 2, "attribute", null);
        var items = PyOps.Iterate(v).ToList();
        var keyed = items.Select(x => (Key: CaseKey(attr is null ? x : Attribute(ev, x, attr), cs), Item: x)).ToList();
        return new PyList(PyOps.StableSort(keyed, k => k.Key, rev).Select(k => k.Item).ToList());
    }

    private static object? DictSort(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        if (v is not PyDict d) throw new PyError("TypeError: dictsort needs a mapping");
        bool cs = PyOps.Truthy(Args.Get(a, kw, 0, "case_sensitive", Box.False));
        bool byValue = Args.Get(a, kw, 1, "by", "key") is "value";
        bool rev = PyOps.Truthy(Args.Get(a, kw, 2, "reverse", Box.False));
        var items = d.Select(kv => (Key: CaseKey(byValue ? kv.Value : PyDict.Out(kv.Key), cs), Pair: (object?)new PyList(2) { PyDict.Out(kv.Key), kv.Value }.AsTuple())).ToList();
        return new PyList(PyOps.StableSort(items, k => k.Key, rev).Select(k => k.Pair).ToList());
    }

    private static object? MinMax(object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw, bool min)
    {
        var items = PyOps.Iterate(v).ToList();
        if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
        bool cs = PyOps.Truthy(Args.Get(a, kw, 0, "case_sensitive", Box.False));
        object? best = items[0];
        foreach (var x in items.Skip(1))
        {
            int c = PyOps.Compare(CaseKey(x, cs), CaseKey(best, cs), "<");
            if (min ? c < 0 : c > 0) best = x;
        }
        return best;
    }

    private static object? Sum(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        var attr = Args.Get(a, kw, 0, "attribute", null);
        object? acc = Args.Get(a, kw, 1, "start", Box.Int(0));
        foreach (var x in PyOps.Iterate(v)) acc = PyOps.Add(acc, attr is null ? x : Attribute(ev, x, attr), ev.Limits.MaxOutputChars);
        return acc;
    }

    private static IEnumerable<object?> Reversed(object? v) => v switch
    {
        string s => PyOps.Iterate(PyOps.Slice(s, null, null, -1)),
        PyList l => Enumerable.Reverse(l),
        PyDict d => d.PyKeys.Reverse(),
        Undefined => [],
        _ => throw new PyError($"TypeError: argument to reversed() must be a sequence"),
    };

    private static string Escape(object? v)
    {
        var s = SoftStr(v);
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
            sb.Append(c switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", '"' => "&#34;", '\'' => "&#39;", _ => c.ToString() });
        return sb.ToString();
    }

    // jinja2's title: capitalize each piece between runs of [-\s({[<].
    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var item in TitleSplit().Split(s))
        {
            if (item.Length == 0) continue;
            sb.Append(char.ToUpperInvariant(item[0])).Append(item[1..].ToLowerInvariant());
        }
        return sb.ToString();
    }

    private static object? Indent(Evaluator ev, object? v, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        var w = Args.Get(a, kw, 0, "width", Box.Int(4));
        string ind = w is string ws ? ws : new string(' ', (int)Math.Clamp(Args.Int(w, "width"), 0, 1024));
        bool first = PyOps.Truthy(Args.Get(a, kw, 1, "first", Box.False));
        bool blank = PyOps.Truthy(Args.Get(a, kw, 2, "blank", Box.False));
        if (v is Undefined u) throw u.Error();
        if (v is not string) throw new PyError($"TypeError: unsupported operand type(s) for +=: '{PyOps.TypeName(v)}' and 'str'");
        string s = (string)v + "\n";
        var lines = ((PyList)Methods.Call(ev, s, "splitlines", [], null)!).Cast<string>().ToList();
        string rv;
        if (blank) rv = string.Join("\n" + ind, lines);
        else
        {
            rv = lines[0];
            if (lines.Count > 1) rv += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? ind + l : l));
        }
        return first ? ind + rv : rv;
    }

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex TitleSplit();

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordRe();
}
