using System.Globalization;
using System.Text;

namespace SharpTune.Text.Jinja;

/// <summary>
/// The global functions a chat template can call: jinja2's <c>range</c>, <c>namespace</c>, <c>dict</c> and the two
/// transformers adds, <c>raise_exception</c> and <c>strftime_now</c>. Nothing else is reachable.
/// </summary>
internal static class Globals
{
    private static readonly Dictionary<string, object?> Table = new(StringComparer.Ordinal)
    {
        ["range"] = new NativeCallable("range", Range),
        ["namespace"] = new NativeCallable("namespace", Namespace),
        ["dict"] = new NativeCallable("dict", Dict),
        ["raise_exception"] = new NativeCallable("raise_exception", (_, a, _) => throw new PyRaised(a.Count > 0 ? PyOps.Str(a[0]) : "")),
        ["strftime_now"] = new NativeCallable("strftime_now", (_, a, _) => Strftime(DateTime.Now, Args.Str(a.Count > 0 ? a[0] : null, "strftime_now format"))),
        ["true"] = Box.True,
        ["false"] = Box.False,
        ["none"] = null,
        ["True"] = Box.True,
        ["False"] = Box.False,
        ["None"] = null,
    };

    public static bool TryGet(string name, out object? value) => Table.TryGetValue(name, out value);

    private static object? Range(Evaluator ev, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        if (a.Count is 0 or > 3) throw new PyError($"TypeError: range expected 1 to 3 arguments, got {a.Count}");
        long start = 0, stop, step = 1;
        if (a.Count == 1) stop = Args.Int(a[0], "range argument");
        else
        {
            start = Args.Int(a[0], "range argument");
            stop = Args.Int(a[1], "range argument");
            if (a.Count == 3) step = Args.Int(a[2], "range argument");
        }
        if (step == 0) throw new PyError("ValueError: range() arg 3 must not be zero");
        long count = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0) : (start > stop ? (start - stop - step - 1) / -step : 0);
        if (count > ev.Limits.MaxRange) throw new PyLimit($"range too big ({count} items; the sandbox allows {ev.Limits.MaxRange})");
        var l = new PyList((int)count);
        for (long i = 0, v = start; i < count; i++, v += step) l.Add(Box.Int(v));
        return l;
    }

    private static object? Namespace(Evaluator ev, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        var ns = new PyNamespace();
        foreach (var arg in a)
        {
            if (arg is not PyDict d) throw new PyError("TypeError: namespace() positional argument must be a dict");
            foreach (var (k, v) in d) ns.Attributes[PyOps.Str(PyDict.Out(k))] = v;
        }
        if (kw is not null) foreach (var (k, v) in kw) ns.Attributes[k] = v;
        return ns;
    }

    private static object? Dict(Evaluator ev, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        var d = new PyDict();
        if (a.Count > 1) throw new PyError("TypeError: dict expected at most 1 argument");
        if (a.Count == 1)
        {
            if (a[0] is PyDict src) foreach (var (k, v) in src) d[k] = v;
            else
                foreach (var item in PyOps.Iterate(a[0]))
                {
                    if (item is not PyList { Count: 2 } pair || !PyOps.IsHashable(pair[0])) throw new PyError("ValueError: dictionary update sequence element has wrong length");
                    d[PyDict.In(pair[0])] = pair[1];
                }
        }
        if (kw is not null) foreach (var (k, v) in kw) d[k] = v;
        return d;
    }

    /// <summary>C strftime for the directives chat templates use (glibc's <c>%-d</c> style included).</summary>
    public static string Strftime(DateTime t, string fmt)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < fmt.Length; i++)
        {
            if (fmt[i] != '%' || i + 1 >= fmt.Length) { sb.Append(fmt[i]); continue; }
            char c = fmt[++i];
            bool noPad = false;
            if (c == '-' && i + 1 < fmt.Length) { noPad = true; c = fmt[++i]; }
            string Num(int v, int w) => noPad ? v.ToString(inv) : v.ToString(new string('0', w), inv);
            sb.Append(c switch
            {
                'Y' => t.Year.ToString(inv),
                'y' => Num(t.Year % 100, 2),
                'm' => Num(t.Month, 2),
                'd' => Num(t.Day, 2),
                'e' => t.Day.ToString(inv).PadLeft(2),
                'H' => Num(t.Hour, 2),
                'I' => Num(t.Hour % 12 == 0 ? 12 : t.Hour % 12, 2),
                'M' => Num(t.Minute, 2),
                'S' => Num(t.Second, 2),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'B' => inv.DateTimeFormat.GetMonthName(t.Month),
                'b' or 'h' => inv.DateTimeFormat.GetAbbreviatedMonthName(t.Month),
                'A' => inv.DateTimeFormat.GetDayName(t.DayOfWeek),
                'a' => inv.DateTimeFormat.GetAbbreviatedDayName(t.DayOfWeek),
                'j' => Num(t.DayOfYear, 3),
                'w' => ((int)t.DayOfWeek).ToString(inv),
                'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(inv),
                'F' => t.ToString("yyyy-MM-dd", inv),
                'T' => t.ToString("HH:mm:ss", inv),
                '%' => "%",
                _ => "%" + (noPad ? "-" : "") + c,
            });
        }
        return sb.ToString();
    }
}
