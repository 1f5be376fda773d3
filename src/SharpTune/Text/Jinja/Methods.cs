using System.Globalization;
using System.Text;

namespace SharpTune.Text.Jinja;

/// <summary>
/// The methods of str, dict, list and tuple that templates may call, with Python's results. Mutating methods exist
/// (so attribute lookup finds them, as in jinja2) but calling one is a security error: the sandbox is immutable.
/// </summary>
internal static class Methods
{
    private static readonly HashSet<string> StrMethods =
    [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper", "lower", "title",
        "capitalize", "swapcase", "casefold", "replace", "find", "rfind", "index", "rindex", "count", "format", "join",
        "isdigit", "isalpha", "isalnum", "isspace", "islower", "isupper", "isnumeric", "isdecimal", "zfill", "center",
        "ljust", "rjust", "partition", "rpartition", "removeprefix", "removesuffix",
    ];

    private static readonly HashSet<string> DictMethods = ["get", "items", "keys", "values", "copy", "pop", "popitem", "setdefault", "update", "clear", "fromkeys"];
    private static readonly HashSet<string> DictUnsafe = ["pop", "popitem", "setdefault", "update", "clear"];
    private static readonly HashSet<string> ListMethods = ["count", "index", "copy", "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];
    private static readonly HashSet<string> ListUnsafe = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];

    public static bool IsStrMethod(string name) => StrMethods.Contains(name);

    public static bool IsDictMethod(string name) => DictMethods.Contains(name);

    public static bool IsListMethod(string name, ListKind kind) => kind switch
    {
        ListKind.List => ListMethods.Contains(name),
        ListKind.Tuple => name is "count" or "index",
        _ => false,
    };

    public static object? Call(Evaluator ev, object receiver, string name, List<object?> a, List<KeyValuePair<string, object?>>? kw) => receiver switch
    {
        string s => CallStr(ev, s, name, a, kw),
        PyDict d => CallDict(d, name, a, kw),
        PyList l => CallList(l, name, a),
        _ => throw new PyError($"'{name}' is not callable"),
    };

    private static object? CallDict(PyDict d, string name, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        if (DictUnsafe.Contains(name)) throw new PyError($"SecurityError: access to attribute '{name}' of 'dict' object is unsafe.");
        switch (name)
        {
            case "get":
                var key = Args.Get(a, kw, 0, "key", null);
                return PyOps.IsHashable(key) && d.TryGetValue(PyDict.In(key), out var v) ? v : Args.Get(a, kw, 1, "default", null);
            case "items": return new PyList(d.Select(kv => (object?)new PyList(2) { PyDict.Out(kv.Key), kv.Value }.AsTuple()), ListKind.DictItems);
            case "keys": return new PyList(d.PyKeys, ListKind.DictKeys);
            case "values": return new PyList(d.Values, ListKind.DictValues);
            case "copy":
                var c = new PyDict(d.Count);
                foreach (var (k, val) in d) c[k] = val;
                return c;
            default: throw new PyError($"dict.{name} is not supported");
        }
    }

    public static PyList AsTuple(this PyList l) => new(l, ListKind.Tuple);

    private static object? CallList(PyList l, string name, List<object?> a)
    {
        if (ListUnsafe.Contains(name)) throw new PyError($"SecurityError: access to attribute '{name}' of '{PyOps.TypeName(l)}' object is unsafe.");
        switch (name)
        {
            case "count": return Box.Int(l.Count(x => PyOps.Eq(x, a.Count > 0 ? a[0] : null)));
            case "index":
                int i = l.FindIndex(x => PyOps.Eq(x, a.Count > 0 ? a[0] : null));
                return i >= 0 ? Box.Int(i) : throw new PyError($"ValueError: {PyOps.Repr(a.Count > 0 ? a[0] : null)} is not in list");
            case "copy": return new PyList(l);
            default: throw new PyError($"list.{name} is not supported");
        }
    }

    private static object? CallStr(Evaluator ev, string s, string name, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        switch (name)
        {
            case "strip": return Strip(ev, s, Args.Get(a, kw, 0, "chars", null), true, true);
            case "lstrip": return Strip(ev, s, Args.Get(a, kw, 0, "chars", null), true, false);
            case "rstrip": return Strip(ev, s, Args.Get(a, kw, 0, "chars", null), false, true);
            case "split": return Split(ev, s, Args.Get(a, kw, 0, "sep", null), Args.Int(Args.Get(a, kw, 1, "maxsplit", Box.Int(-1)), "maxsplit"));
            case "rsplit": return RSplit(s, Args.Get(a, kw, 0, "sep", null), Args.Int(Args.Get(a, kw, 1, "maxsplit", Box.Int(-1)), "maxsplit"));
            case "splitlines": return SplitLines(s, PyOps.Truthy(Args.Get(a, kw, 0, "keepends", Box.False)));
            case "startswith": return Box.Bool(Affix(s, a, kw, "startswith", (x, p) => x.StartsWith(p, StringComparison.Ordinal)));
            case "endswith": return Box.Bool(Affix(s, a, kw, "endswith", (x, p) => x.EndsWith(p, StringComparison.Ordinal)));
            case "upper": return s.ToUpperInvariant();
            case "lower": return s.ToLowerInvariant();
            case "casefold": return s.ToLowerInvariant();
            case "title": return PyTitle(s);
            case "capitalize": return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
            case "swapcase": return string.Concat(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)));
            case "replace":
                return Replace(s, Args.Str(Args.Get(a, kw, 0, "old", null), "replace() argument 1"), Args.Str(Args.Get(a, kw, 1, "new", null), "replace() argument 2"),
                    Args.Int(Args.Get(a, kw, 2, "count", Box.Int(-1)), "count"), ev.Limits.MaxOutputChars);
            case "find": return Box.Int(Find(s, a, reverse: false));
            case "rfind": return Box.Int(Find(s, a, reverse: true));
            case "index": return Find(s, a, false) is var i && i >= 0 ? Box.Int(i) : throw new PyError("ValueError: substring not found");
            case "rindex": return Find(s, a, true) is var j && j >= 0 ? Box.Int(j) : throw new PyError("ValueError: substring not found");
            case "count":
                var sub = Args.Str(a.Count > 0 ? a[0] : null, "count() argument");
                if (sub.Length == 0) return Box.Int(PyOps.StrLength(s) + 1);
                int n = 0;
                for (int p = s.IndexOf(sub, StringComparison.Ordinal); p >= 0; p = s.IndexOf(sub, p + sub.Length, StringComparison.Ordinal)) n++;
                return Box.Int(n);
            case "format": return Format(s, a, kw);
            case "join":
                var parts = PyOps.Iterate(a.Count > 0 ? a[0] : null).Select(x => x as string ?? throw new PyError($"TypeError: sequence item: expected str instance, {PyOps.TypeName(x)} found")).ToList();
                return JoinTracked(ev, s, parts);
            case "isdigit" or "isnumeric" or "isdecimal": return Box.Bool(s.Length > 0 && s.All(char.IsDigit));
            case "isalpha": return Box.Bool(s.Length > 0 && s.All(char.IsLetter));
            case "isalnum": return Box.Bool(s.Length > 0 && s.All(char.IsLetterOrDigit));
            case "isspace": return Box.Bool(s.Length > 0 && s.All(PyOps.IsPySpace));
            case "islower": return Box.Bool(s.Any(char.IsLetter) && !s.Any(char.IsUpper));
            case "isupper": return Box.Bool(s.Any(char.IsLetter) && !s.Any(char.IsLower));
            case "zfill":
                int w = (int)Args.Int(a.Count > 0 ? a[0] : null, "zfill width");
                if (s.Length >= w) return s;
                int sign = s.Length > 0 && s[0] is '+' or '-' ? 1 : 0;
                return s[..sign] + new string('0', w - s.Length) + s[sign..];
            case "center" or "ljust" or "rjust":
                int width = (int)Math.Min(Args.Int(a.Count > 0 ? a[0] : null, name + " width"), ev.Limits.MaxOutputChars);
                string fill = a.Count > 1 ? Args.Str(a[1], "fill character") : " ";
                int len = PyOps.StrLength(s);
                if (width <= len) return s;
                int total = width - len;
                int left = name == "rjust" ? total : name == "ljust" ? 0 : total / 2 + (total & width & 1);
                return Repeat(fill, left) + s + Repeat(fill, total - left);
            case "partition" or "rpartition":
                var sepP = Args.Str(a.Count > 0 ? a[0] : null, "separator");
                int at = name == "partition" ? s.IndexOf(sepP, StringComparison.Ordinal) : s.LastIndexOf(sepP, StringComparison.Ordinal);
                if (at < 0) return name == "partition" ? new PyList { s, "", "" }.AsTuple() : new PyList { "", "", s }.AsTuple();
                return new PyList { s[..at], sepP, s[(at + sepP.Length)..] }.AsTuple();
            case "removeprefix":
                var pre = Args.Str(a.Count > 0 ? a[0] : null, "prefix");
                return s.StartsWith(pre, StringComparison.Ordinal) ? ev.TrackSubstring(s, s[pre.Length..], pre.Length) : s;
            case "removesuffix":
                var suf = Args.Str(a.Count > 0 ? a[0] : null, "suffix");
                return suf.Length > 0 && s.EndsWith(suf, StringComparison.Ordinal) ? ev.TrackSubstring(s, s[..^suf.Length], 0) : s;
            default: throw new PyError($"str.{name} is not supported");
        }
    }

    private static string Repeat(string s, int n) => n <= 0 ? "" : string.Concat(Enumerable.Repeat(s, n));

    private static string JoinTracked(Evaluator ev, string sep, List<string> parts)
    {
        long total = parts.Sum(p => (long)p.Length) + (long)sep.Length * Math.Max(0, parts.Count - 1);
        if (total > ev.Limits.MaxOutputChars) throw new PyLimit("joined string too long");
        if (parts.Count == 1) return parts[0];
        var result = string.Join(sep, parts);
        ev.TrackJoin(result, sep, parts);
        return result;
    }

    public static string Strip(Evaluator? ev, string s, object? chars, bool left, bool right)
    {
        Func<char, bool> strip;
        if (chars is null or Undefined) strip = PyOps.IsPySpace;
        else
        {
            var set = Args.Str(chars, "strip arg");
            strip = c => set.Contains(c);
        }
        int st = 0, en = s.Length;
        if (left) while (st < en && strip(s[st])) st++;
        if (right) while (en > st && strip(s[en - 1])) en--;
        if (st == 0 && en == s.Length) return s;
        var r = s[st..en];
        return ev is null ? r : ev.TrackSubstring(s, r, st);
    }

    private static PyList Split(Evaluator ev, string s, object? sep, long maxsplit)
    {
        var r = new PyList();
        if (sep is null)
        {
            int i = 0, n = s.Length;
            while (true)
            {
                while (i < n && PyOps.IsPySpace(s[i])) i++;
                if (i >= n) break;
                if (maxsplit >= 0 && r.Count >= maxsplit)
                {
                    r.Add(ev.TrackSubstring(s, s[i..], i));
                    break;
                }
                int st = i;
                while (i < n && !PyOps.IsPySpace(s[i])) i++;
                r.Add(ev.TrackSubstring(s, s[st..i], st));
            }
            return r;
        }
        var sp = Args.Str(sep, "separator");
        if (sp.Length == 0) throw new PyError("ValueError: empty separator");
        int pos = 0;
        while (maxsplit < 0 || r.Count < maxsplit)
        {
            int at = s.IndexOf(sp, pos, StringComparison.Ordinal);
            if (at < 0) break;
            r.Add(ev.TrackSubstring(s, s[pos..at], pos));
            pos = at + sp.Length;
        }
        r.Add(pos == 0 ? s : ev.TrackSubstring(s, s[pos..], pos));
        return r;
    }

    private static PyList RSplit(string s, object? sep, long maxsplit)
    {
        var parts = new List<object?>();
        int end = s.Length;
        if (sep is null)
        {
            // Whitespace runs separate; the leftover head keeps its inner spacing but loses trailing whitespace.
            while (true)
            {
                while (end > 0 && PyOps.IsPySpace(s[end - 1])) end--;
                if (end == 0) break;
                if (maxsplit >= 0 && parts.Count >= maxsplit)
                {
                    parts.Insert(0, s[..end]);
                    break;
                }
                int b = end;
                while (b > 0 && !PyOps.IsPySpace(s[b - 1])) b--;
                parts.Insert(0, s[b..end]);
                end = b;
            }
            return new PyList(parts);
        }
        var sp = Args.Str(sep, "separator");
        if (sp.Length == 0) throw new PyError("ValueError: empty separator");
        while (maxsplit < 0 || parts.Count < maxsplit)
        {
            int at = end - sp.Length < 0 ? -1 : s.LastIndexOf(sp, end - 1, end, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Insert(0, s[(at + sp.Length)..end]);
            end = at;
        }
        parts.Insert(0, s[..end]);
        return new PyList(parts);
    }

    private static PyList SplitLines(string s, bool keepEnds)
    {
        var r = new PyList();
        int st = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')
            {
                int e = i;
                if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n') i++;
                r.Add(keepEnds ? s[st..(i + 1)] : s[st..e]);
                st = i + 1;
            }
        }
        if (st < s.Length) r.Add(s[st..]);
        return r;
    }

    private static bool Affix(string s, List<object?> a, List<KeyValuePair<string, object?>>? kw, string what, Func<string, string, bool> test)
    {
        var arg = a.Count > 0 ? a[0] : null;
        if (a.Count > 1) throw new PyError($"{what} with start/end positions is not supported");
        if (arg is PyList { Kind: ListKind.Tuple } t) return t.Any(x => test(s, Args.Str(x, what + " tuple item")));
        if (arg is string p) return test(s, p);
        throw new PyError($"TypeError: {what} first arg must be str or a tuple of str, not {PyOps.TypeName(arg)}");
    }

    private static string Replace(string s, string old, string nw, long count, int max)
    {
        if (count < 0)
        {
            if (old.Length == 0)
            {
                var sb0 = new StringBuilder(nw);
                foreach (char c in s) sb0.Append(c).Append(nw);
                return sb0.ToString();
            }
            var r = s.Replace(old, nw, StringComparison.Ordinal);
            return r.Length > max ? throw new PyLimit("replace() result too long") : r;
        }
        var sb = new StringBuilder();
        int pos = 0, done = 0;
        while (done < count)
        {
            int at = old.Length == 0 ? (pos <= s.Length ? pos : -1) : s.IndexOf(old, pos, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(s, pos, at - pos).Append(nw);
            if (old.Length == 0) { if (at < s.Length) sb.Append(s[at]); pos = at + 1; }
            else pos = at + old.Length;
            done++;
        }
        if (pos < s.Length) sb.Append(s, pos, s.Length - pos);
        return sb.ToString();
    }

    private static int Find(string s, List<object?> a, bool reverse)
    {
        var sub = Args.Str(a.Count > 0 ? a[0] : null, "find() argument");
        int start = a.Count > 1 && a[1] is long st ? (int)Math.Clamp(st < 0 ? st + s.Length : st, 0, s.Length) : 0;
        int end = a.Count > 2 && a[2] is long en ? (int)Math.Clamp(en < 0 ? en + s.Length : en, 0, s.Length) : s.Length;
        if (end < start) return -1;
        var region = s[start..end];
        int i = reverse ? region.LastIndexOf(sub, StringComparison.Ordinal) : region.IndexOf(sub, StringComparison.Ordinal);
        return i < 0 ? -1 : i + start;
    }

    /// <summary>Python's str.title(): upper-case the first cased character of each run of letters.</summary>
    public static string PyTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevCased = false;
        foreach (char c in s)
        {
            bool cased = char.IsUpper(c) || char.IsLower(c) || char.IsLetter(c) && char.ToUpperInvariant(c) != char.ToLowerInvariant(c);
            sb.Append(cased ? (prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)) : c);
            prevCased = cased;
        }
        return sb.ToString();
    }

    /// <summary>str.format with {}, {0}, {name}, attribute/index-free fields, !r/!s and simple format specs.</summary>
    private static string Format(string s, List<object?> a, List<KeyValuePair<string, object?>>? kw)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '{')
            {
                if (i + 1 < s.Length && s[i + 1] == '{') { sb.Append('{'); i++; continue; }
                int close = s.IndexOf('}', i);
                if (close < 0) throw new PyError("ValueError: Single '{' encountered in format string");
                var field = s[(i + 1)..close];
                string? conv = null, spec = null;
                int colon = field.IndexOf(':');
                if (colon >= 0) { spec = field[(colon + 1)..]; field = field[..colon]; }
                int bang = field.IndexOf('!');
                if (bang >= 0) { conv = field[(bang + 1)..]; field = field[..bang]; }
                object? v;
                if (field.Length == 0) v = auto < a.Count ? a[auto++] : throw new PyError("IndexError: Replacement index out of range for positional args tuple");
                else if (int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int idx)) v = idx < a.Count ? a[idx] : throw new PyError($"IndexError: Replacement index {idx} out of range for positional args tuple");
                else v = kw?.FirstOrDefault(k => k.Key == field) is { Key: not null } kv ? kv.Value : throw new PyError($"KeyError: '{field}'");
                string text = conv == "r" ? PyOps.Repr(v) : spec is { Length: > 0 } ? FormatSpec(v, spec) : PyOps.Str(v);
                sb.Append(text);
                i = close;
            }
            else if (c == '}')
            {
                if (i + 1 < s.Length && s[i + 1] == '}') { sb.Append('}'); i++; continue; }
                throw new PyError("ValueError: Single '}' encountered in format string");
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static string FormatSpec(object? v, string spec)
    {
        // [[fill]align][0][width][.precision][type]
        int i = 0;
        char fill = ' ', align = '\0';
        if (spec.Length >= 2 && spec[1] is '<' or '>' or '^') { fill = spec[0]; align = spec[1]; i = 2; }
        else if (spec.Length >= 1 && spec[0] is '<' or '>' or '^') { align = spec[0]; i = 1; }
        if (i < spec.Length && spec[i] == '0' && align == '\0') { fill = '0'; align = '='; i++; }
        int ws = i;
        while (i < spec.Length && char.IsAsciiDigit(spec[i])) i++;
        int width = i > ws ? int.Parse(spec[ws..i], CultureInfo.InvariantCulture) : 0;
        int precision = -1;
        if (i < spec.Length && spec[i] == '.')
        {
            int ps = ++i;
            while (i < spec.Length && char.IsAsciiDigit(spec[i])) i++;
            precision = int.Parse(spec[ps..i], CultureInfo.InvariantCulture);
        }
        char type = i < spec.Length ? spec[i] : '\0';
        string body = type switch
        {
            'f' or 'F' => Convert.ToDouble(v is bool b ? (b ? 1 : 0) : v, CultureInfo.InvariantCulture).ToString("F" + (precision < 0 ? 6 : precision), CultureInfo.InvariantCulture),
            'd' => Args.Int(v, "format value").ToString(CultureInfo.InvariantCulture),
            _ => precision >= 0 && v is string str ? str[..Math.Min(precision, str.Length)] : PyOps.Str(v),
        };
        if (body.Length >= width) return body;
        if (align == '\0') align = v is long or double ? '>' : '<';
        int pad = width - body.Length;
        return align switch
        {
            '>' => new string(fill, pad) + body,
            '^' => new string(fill, pad / 2) + body + new string(fill, pad - pad / 2),
            '=' => body.StartsWith('-') ? "-" + new string(fill, pad) + body[1..] : new string(fill, pad) + body,
            _ => body + new string(fill, pad),
        };
    }

    /// <summary>printf-style <c>str % args</c> for %s, %r, %d, %i, %f and %%.</summary>
    public static string PercentFormat(string s, object? args)
    {
        var list = args is PyList { Kind: ListKind.Tuple } t ? t : new PyList { args };
        // Python does not complain about an unused argument that supports indexing (a mapping, a list, Undefined).
        bool lenient = args is PyDict or Undefined || args is PyList { Kind: not ListKind.Tuple };
        var sb = new StringBuilder();
        int k = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] != '%') { sb.Append(s[i]); continue; }
            if (++i >= s.Length) throw new PyError("ValueError: incomplete format");
            char c = s[i];
            if (c == '%') { sb.Append('%'); continue; }
            if (k >= list.Count) throw new PyError("TypeError: not enough arguments for format string");
            var v = list[k++];
            sb.Append(c switch
            {
                's' => PyOps.Str(v),
                'r' => PyOps.Repr(v),
                'd' or 'i' => v is double d ? ((long)Math.Truncate(d)).ToString(CultureInfo.InvariantCulture) : Args.Int(v, "%d format").ToString(CultureInfo.InvariantCulture),
                'f' => Convert.ToDouble(v is bool bb ? (bb ? 1 : 0) : v, CultureInfo.InvariantCulture).ToString("F6", CultureInfo.InvariantCulture),
                _ => throw new PyError($"ValueError: unsupported format character '{c}'"),
            });
        }
        if (k < list.Count && !lenient) throw new PyError("TypeError: not all arguments converted during string formatting");
        return sb.ToString();
    }
}
