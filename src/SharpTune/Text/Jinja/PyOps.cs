using System.Globalization;
using System.Text;

namespace SharpTune.Text.Jinja;

/// <summary>Python semantics for values: truth, equality, ordering, arithmetic, str() and repr().</summary>
internal static class PyOps
{
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        PyList { Kind: ListKind.Tuple } => "tuple",
        PyList { Kind: ListKind.Generator } => "generator",
        PyList => "list",
        PyDict => "dict",
        PyNamespace => "Namespace",
        Undefined => "Undefined",
        PyCallable => "function",
        _ => v.GetType().Name,
    };

    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        PyList { Kind: ListKind.Generator } => true,
        PyList l => l.Count > 0,
        PyDict d => d.Count > 0,
        Undefined => false,
        _ => true,
    };

    public static bool IsNumber(object? v) => v is long or double or bool;

    private static double ToDouble(object v) => v switch { long l => l, double d => d, bool b => b ? 1 : 0, _ => throw new PyError("not a number") };

    private static long ToLong(object v) => v switch { long l => l, bool b => b ? 1 : 0, _ => throw new PyError("not an integer") };

    public static bool Eq(object? a, object? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (ReferenceEquals(a, PyDict.NoneKey)) a = null;
        if (ReferenceEquals(b, PyDict.NoneKey)) b = null;
        switch (a)
        {
            case null: return b is null;
            case string s: return b is string t && string.Equals(s, t, StringComparison.Ordinal);
            case long or bool or double when IsNumber(b):
                if (a is double || b is double) return ToDouble(a) == ToDouble(b!);
                return ToLong(a) == ToLong(b!);
            case PyList l when b is PyList m:
                if ((l.Kind == ListKind.Tuple) != (m.Kind == ListKind.Tuple) || l.Count != m.Count) return false;
                for (int i = 0; i < l.Count; i++) if (!Eq(l[i], m[i])) return false;
                return true;
            case PyDict d when b is PyDict e:
                if (d.Count != e.Count) return false;
                foreach (var (k, v) in d) if (!e.TryGetValue(k, out var w) || !Eq(v, w)) return false;
                return true;
            case Undefined: return b is Undefined;
            default: return false;
        }
    }

    /// <summary>Python ordering (&lt;, &gt;, ...): numbers, strings (by code point), lists/tuples lexicographically.</summary>
    public static int Compare(object? a, object? b, string op)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a!).CompareTo(ToDouble(b!));
            return ToLong(a!).CompareTo(ToLong(b!));
        }
        if (a is string s && b is string t) return HasSurrogates(s) || HasSurrogates(t) ? CompareCodePoints(s, t) : Math.Sign(string.CompareOrdinal(s, t));
        if (a is PyList l && b is PyList m && (l.Kind == ListKind.Tuple) == (m.Kind == ListKind.Tuple))
        {
            for (int i = 0; i < Math.Min(l.Count, m.Count); i++)
                if (!Eq(l[i], m[i])) return Compare(l[i], m[i], op);
            return l.Count.CompareTo(m.Count);
        }
        if (a is Undefined u) throw u.Error();
        if (b is Undefined w) throw w.Error();
        throw new PyError($"TypeError: '{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static int CompareCodePoints(string s, string t)
    {
        var a = s.EnumerateRunes().GetEnumerator();
        var b = t.EnumerateRunes().GetEnumerator();
        while (true)
        {
            bool ha = a.MoveNext(), hb = b.MoveNext();
            if (!ha || !hb) return ha == hb ? 0 : ha ? 1 : -1;
            int c = a.Current.Value.CompareTo(b.Current.Value);
            if (c != 0) return c;
        }
    }

    public static object? Add(object? a, object? b, int maxChars)
    {
        if (a is string s && b is string t)
        {
            if ((long)s.Length + t.Length > maxChars) throw new PyLimit($"a string would exceed {maxChars} characters");
            return string.Concat(s, t);
        }
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a!) + ToDouble(b!);
            try { return Box.Int(checked(ToLong(a!) + ToLong(b!))); } catch (OverflowException) { throw IntOverflow(); }
        }
        if (a is PyList l && b is PyList m && l.Kind == m.Kind && l.Kind is ListKind.List or ListKind.Tuple)
        {
            var r = new PyList(l.Count + m.Count) { Kind = l.Kind };
            r.AddRange(l);
            r.AddRange(m);
            return r;
        }
        throw BinaryError("+", a, b);
    }

    public static object? Sub(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a!) - ToDouble(b!);
            try { return Box.Int(checked(ToLong(a!) - ToLong(b!))); } catch (OverflowException) { throw IntOverflow(); }
        }
        throw BinaryError("-", a, b);
    }

    public static object? Mul(object? a, object? b, int maxChars)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double) return ToDouble(a!) * ToDouble(b!);
            try { return Box.Int(checked(ToLong(a!) * ToLong(b!))); } catch (OverflowException) { throw IntOverflow(); }
        }
        if (a is long or bool && b is string or PyList) (a, b) = (b, a);
        if (b is long or bool)
        {
            long n = Math.Max(0, ToLong(b));
            if (a is string s)
            {
                if (s.Length * n > maxChars) throw new PyLimit($"a string would exceed {maxChars} characters");
                var sb = new StringBuilder(s.Length * (int)n);
                for (long i = 0; i < n; i++) sb.Append(s);
                return sb.ToString();
            }
            if (a is PyList l && l.Kind is ListKind.List or ListKind.Tuple)
            {
                if (l.Count * n > maxChars) throw new PyLimit($"a list would exceed {maxChars} items");
                var r = new PyList((int)(l.Count * n)) { Kind = l.Kind };
                for (long i = 0; i < n; i++) r.AddRange(l);
                return r;
            }
        }
        throw BinaryError("*", a, b);
    }

    public static object? TrueDiv(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            double y = ToDouble(b!);
            if (y == 0) throw new PyError("ZeroDivisionError: division by zero");
            return ToDouble(a!) / y;
        }
        throw BinaryError("/", a, b);
    }

    public static object? FloorDiv(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double)
            {
                double y = ToDouble(b!);
                if (y == 0) throw new PyError("ZeroDivisionError: float floor division by zero");
                return Math.Floor(ToDouble(a!) / y);
            }
            long p = ToLong(a!), q = ToLong(b!);
            if (q == 0) throw new PyError("ZeroDivisionError: integer division or modulo by zero");
            if (p == long.MinValue && q == -1) throw IntOverflow();
            long d = p / q;
            if ((p % q != 0) && ((p < 0) != (q < 0))) d--;
            return Box.Int(d);
        }
        throw BinaryError("//", a, b);
    }

    public static object? Mod(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double)
            {
                double x = ToDouble(a!), y = ToDouble(b!);
                if (y == 0) throw new PyError("ZeroDivisionError: float modulo");
                double r = x % y;
                if (r != 0 && (r < 0) != (y < 0)) r += y;
                return r;
            }
            long p = ToLong(a!), q = ToLong(b!);
            if (q == 0) throw new PyError("ZeroDivisionError: integer division or modulo by zero");
            if (q == -1) return Box.Int(0);
            long m = p % q;
            if (m != 0 && (m < 0) != (q < 0)) m += q;
            return Box.Int(m);
        }
        if (a is string s) return Methods.PercentFormat(s, b);
        throw BinaryError("%", a, b);
    }

    public static object? Pow(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (a is double || b is double || ToLong(b!) < 0)
            {
                double x = ToDouble(a!), y = ToDouble(b!);
                if (x == 0 && y < 0) throw new PyError("ZeroDivisionError: 0.0 cannot be raised to a negative power");
                return Math.Pow(x, y);
            }
            long bas = ToLong(a!), e = ToLong(b!), r = 1;
            try
            {
                while (e > 0)
                {
                    if ((e & 1) != 0) r = checked(r * bas);
                    e >>= 1;
                    if (e > 0) bas = checked(bas * bas);
                }
            }
            catch (OverflowException) { throw IntOverflow(); }
            return Box.Int(r);
        }
        throw BinaryError("**", a, b);
    }

    public static object? Negate(object? a) => a switch
    {
        long l when l != long.MinValue => Box.Int(-l),
        bool b => Box.Int(b ? -1 : 0),
        double d => -d,
        _ => throw new PyError($"TypeError: bad operand type for unary -: '{TypeName(a)}'"),
    };

    public static object? Plus(object? a) => a switch
    {
        long or double => a,
        bool b => Box.Int(b ? 1 : 0),
        _ => throw new PyError($"TypeError: bad operand type for unary +: '{TypeName(a)}'"),
    };

    private static PyError IntOverflow() => new("OverflowError: integer result does not fit in 64 bits (SharpTune's int is 64-bit)");

    private static PyError BinaryError(string op, object? a, object? b)
    {
        if (a is Undefined u) return u.Error();
        if (b is Undefined w) return w.Error();
        if (op == "+" && a is string && b is not string) return new PyError($"TypeError: can only concatenate str (not \"{TypeName(b)}\") to str");
        if (op == "+" && a is PyList && b is not PyList) return new PyError($"TypeError: can only concatenate list (not \"{TypeName(b)}\") to list");
        return new PyError($"TypeError: unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");
    }

    /// <summary><c>x in container</c>.</summary>
    public static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string t => s.Contains(t, StringComparison.Ordinal),
        string => throw new PyError($"TypeError: 'in <string>' requires string as left operand, not {TypeName(item)}"),
        PyList l => l.Any(x => Eq(x, item)),
        PyDict d => IsHashable(item) ? d.ContainsKey(PyDict.In(item)) : throw new PyError($"TypeError: unhashable type: '{TypeName(item)}'"),
        PyNamespace n => item is string k && n.Attributes.ContainsKey(k),
        Undefined => false, // Undefined iterates empty

        _ => throw new PyError($"TypeError: argument of type '{TypeName(container)}' is not iterable"),
    };

    public static bool IsHashable(object? v) => v is null or string or long or double or bool || v is PyList { Kind: ListKind.Tuple };

    // ---- str() and repr() ----

    /// <summary>Python <c>str(v)</c>, which is what <c>{{ v }}</c> prints (Undefined prints empty).</summary>
    public static string Str(object? v)
    {
        switch (v)
        {
            case string s: return s;
            case null: return "None";
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FloatRepr(d);
            case Undefined: return "";
            default:
                var sb = new StringBuilder();
                Repr(v, sb, 0);
                return sb.ToString();
        }
    }

    public static string Repr(object? v)
    {
        var sb = new StringBuilder();
        Repr(v, sb, 0);
        return sb.ToString();
    }

    public static void Repr(object? v, StringBuilder sb, int depth)
    {
        if (depth > 200) throw new PyLimit("value nested too deeply to print");
        switch (v)
        {
            case string s: StrRepr(s, sb); break;
            case PyList { Kind: ListKind.Generator }: sb.Append("<generator object>"); break;
            case PyList l:
                string open = l.Kind switch { ListKind.Tuple => "(", ListKind.DictItems => "dict_items([", ListKind.DictKeys => "dict_keys([", ListKind.DictValues => "dict_values([", _ => "[" };
                string close = l.Kind switch { ListKind.Tuple => l.Count == 1 ? ",)" : ")", ListKind.List => "]", _ => "])" };
                sb.Append(open);
                for (int i = 0; i < l.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Repr(l[i], sb, depth + 1);
                }
                sb.Append(close);
                break;
            case PyDict d:
                sb.Append('{');
                bool first = true;
                foreach (var (k, val) in d)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    Repr(PyDict.Out(k), sb, depth + 1);
                    sb.Append(": ");
                    Repr(val, sb, depth + 1);
                }
                sb.Append('}');
                break;
            case PyNamespace n:
                sb.Append("<Namespace {");
                bool f = true;
                foreach (var (k, val) in n.Attributes)
                {
                    if (!f) sb.Append(", ");
                    f = false;
                    StrRepr(k, sb);
                    sb.Append(": ");
                    Repr(val, sb, depth + 1);
                }
                sb.Append("}>");
                break;
            case Undefined: sb.Append("Undefined"); break;
            case PyCallable c: sb.Append("<function ").Append(c.Name).Append('>'); break;
            default: sb.Append(Str(v)); break;
        }
    }

    /// <summary>Python's repr of a str: single quotes unless it contains ' and no ".</summary>
    public static void StrRepr(string s, StringBuilder sb)
    {
        char q = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(q);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == q || c == '\\') sb.Append('\\').Append(c);
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                int cp = char.ConvertToUtf32(c, s[i + 1]);
                if (IsPrintable(cp)) sb.Append(c).Append(s[i + 1]);
                else sb.Append("\\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture));
                i++;
            }
            else if (char.IsSurrogate(c)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else if (c < 0x7f || IsPrintable(c)) sb.Append(c);
            else if (c <= 0xff) sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        sb.Append(q);
    }

    // Python's str.isprintable: not in categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs (except the ASCII space).
    private static bool IsPrintable(int cp)
    {
        if (cp == ' ') return true;
        var cat = CharUnicodeInfo.GetUnicodeCategory(cp);
        return cat is not (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);
    }

    /// <summary>Python's float repr: shortest round-trip digits, fixed notation for exponents in [-4, 16).</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        // Shortest round-trip digits: "R" gives them, in varying layouts; normalise to Python's.
        string shortest = d.ToString("R", CultureInfo.InvariantCulture);
        bool neg = shortest[0] == '-';
        if (neg) shortest = shortest[1..];
        int ePos = shortest.IndexOfAny(['E', 'e']);
        string mant = ePos >= 0 ? shortest[..ePos] : shortest;
        int exp10 = ePos >= 0 ? int.Parse(shortest[(ePos + 1)..], CultureInfo.InvariantCulture) : 0;
        int dot = mant.IndexOf('.');
        string digits = dot >= 0 ? mant.Remove(dot, 1) : mant;
        int pointPos = (dot >= 0 ? dot : mant.Length) + exp10; // digits[0..pointPos) are the integer part
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; pointPos--; }
        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int sciExp = pointPos - 1;
        var sb = new StringBuilder();
        if (neg) sb.Append('-');
        if (sciExp >= -4 && sciExp < 16)
        {
            if (pointPos <= 0) sb.Append("0.").Append('0', -pointPos).Append(digits);
            else if (pointPos >= digits.Length) sb.Append(digits).Append('0', pointPos - digits.Length).Append(".0");
            else sb.Append(digits, 0, pointPos).Append('.').Append(digits, pointPos, digits.Length - pointPos);
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(sciExp < 0 ? '-' : '+').Append(Math.Abs(sciExp).ToString("00", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    // ---- code points: Python indexes strings by code point, .NET by UTF-16 unit ----

    public static bool HasSurrogates(string s)
    {
        foreach (char c in s) if (char.IsSurrogate(c)) return true;
        return false;
    }

    public static int StrLength(string s) => HasSurrogates(s) ? s.EnumerateRunes().Count() : s.Length;

    public static int[] CodePoints(string s)
    {
        var list = new List<int>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { list.Add(char.ConvertToUtf32(s[i], s[i + 1])); i++; }
            else list.Add(s[i]);
        }
        return list.ToArray();
    }

    public static string FromCodePoints(IEnumerable<int> cps)
    {
        var sb = new StringBuilder();
        foreach (var cp in cps)
        {
            if (cp > 0xffff) sb.Append(char.ConvertFromUtf32(cp));
            else sb.Append((char)cp);
        }
        return sb.ToString();
    }

    public static int Length(object? v) => v switch
    {
        string s => StrLength(s),
        PyList { Kind: ListKind.Generator } => throw new PyError("TypeError: object of type 'generator' has no len()"),
        PyList l => l.Count,
        PyDict d => d.Count,
        PyNamespace n => throw new PyError("TypeError: object of type 'Namespace' has no len()"),
        Undefined => 0,
        _ => throw new PyError($"TypeError: object of type '{TypeName(v)}' has no len()"),
    };

    /// <summary>Python slice indices for a sequence of length n.</summary>
    public static IEnumerable<int> SliceIndices(int n, long? start, long? stop, long? step)
    {
        long st = step ?? 1;
        if (st == 0) throw new PyError("ValueError: slice step cannot be zero");
        long lo, hi;
        if (st > 0)
        {
            lo = start is null ? 0 : start < 0 ? Math.Max(0, start.Value + n) : Math.Min(start.Value, n);
            hi = stop is null ? n : stop < 0 ? Math.Max(0, stop.Value + n) : Math.Min(stop.Value, n);
            for (long i = lo; i < hi; i += st) yield return (int)i;
        }
        else
        {
            lo = start is null ? n - 1 : start < 0 ? Math.Max(-1, start.Value + n) : Math.Min(start.Value, n - 1);
            hi = stop is null ? -1 : stop < 0 ? Math.Max(-1, stop.Value + n) : Math.Min(stop.Value, n - 1);
            for (long i = lo; i > hi; i += st) yield return (int)i;
        }
    }

    public static object? Slice(object? v, long? start, long? stop, long? step)
    {
        switch (v)
        {
            case string s when !HasSurrogates(s):
                if (step is null or 1)
                {
                    int n = s.Length;
                    long lo = start is null ? 0 : start < 0 ? Math.Max(0, start.Value + n) : Math.Min(start.Value, n);
                    long hi = stop is null ? n : stop < 0 ? Math.Max(0, stop.Value + n) : Math.Min(stop.Value, n);
                    return hi <= lo ? "" : s.Substring((int)lo, (int)(hi - lo));
                }
                var sb = new StringBuilder();
                foreach (var i in SliceIndices(s.Length, start, stop, step)) sb.Append(s[i]);
                return sb.ToString();
            case string s:
                var cps = CodePoints(s);
                return FromCodePoints(SliceIndices(cps.Length, start, stop, step).Select(i => cps[i]));
            case PyList { Kind: ListKind.List or ListKind.Tuple } l:
                var r = new PyList { Kind = l.Kind };
                foreach (var i in SliceIndices(l.Count, start, stop, step)) r.Add(l[i]);
                return r;
            case Undefined u: throw u.Error();
            default: throw new PyError($"TypeError: '{TypeName(v)}' object is not subscriptable");
        }
    }

    /// <summary>Iterates a value as a for-loop does (dicts yield keys, strings yield characters).</summary>
    public static IEnumerable<object?> Iterate(object? v) => v switch
    {
        PyList l => l,
        PyDict d => d.PyKeys,
        string s => StringChars(s),
        Undefined => [],
        _ => throw new PyError($"TypeError: '{TypeName(v)}' object is not iterable"),
    };

    public static PyList ToList(object? v)
    {
        if (v is PyList { Kind: ListKind.List } l) return l;
        return new PyList(Iterate(v));
    }

    private static IEnumerable<object?> StringChars(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { yield return s.Substring(i, 2); i++; }
            else yield return s[i].ToString();
        }
    }

    /// <summary>
    /// Python's sorted(): stable, and a comparison error surfaces as itself (.NET's sorts wrap comparer exceptions).
    /// </summary>
    public static List<T> StableSort<T>(List<T> items, Func<T, object?> key, bool reverse)
    {
        var keys = items.Select(key).ToArray();
        var idx = Enumerable.Range(0, items.Count).ToArray();
        var tmp = new int[idx.Length];
        int Cmp(int a, int b)
        {
            int c = Compare(keys[a], keys[b], "<");
            return reverse ? -c : c;
        }
        void Sort(int lo, int hi)
        {
            if (hi - lo < 2) return;
            int mid = (lo + hi) / 2;
            Sort(lo, mid);
            Sort(mid, hi);
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = Cmp(idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
            while (i < mid) tmp[k++] = idx[i++];
            while (j < hi) tmp[k++] = idx[j++];
            Array.Copy(tmp, lo, idx, lo, hi - lo);
        }
        Sort(0, idx.Length);
        return idx.Select(i => items[i]).ToList();
    }

    public static bool IsPySpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');
}
