using System.Diagnostics;
using System.Text;

namespace SharpTune.Text.Jinja;

/// <summary>One span of a string that came verbatim from a tracked source string.</summary>
/// <param name="Offset">Start inside the string that carries it.</param>
/// <param name="Length">Length in UTF-16 units.</param>
/// <param name="Source">Index of the tracked source (e.g. the message index).</param>
/// <param name="SourceOffset">Start inside the source string.</param>
internal readonly record struct Provenance(int Offset, int Length, int Source, int SourceOffset);

/// <summary>
/// The state of one render: output, scopes, sandbox counters, the position being evaluated (for error messages)
/// and, when asked for, provenance tracking of source strings through concatenation, slicing and stripping.
/// </summary>
internal sealed class Evaluator
{
    private readonly IReadOnlyDictionary<string, object?> _context;
    private readonly long _deadline;
    private StringBuilder _out = new();
    private List<Provenance>? _outSegs;
    private readonly Dictionary<string, List<Provenance>>? _tracked;
    private int _captureDepth;
    private int _iterations;
    private int _depth;
    private int _line, _col;

    public Evaluator(IReadOnlyDictionary<string, object?> context, SandboxLimits limits, bool track)
    {
        _context = context;
        Limits = limits;
        double ticks = limits.Timeout.TotalSeconds * Stopwatch.Frequency;
        _deadline = ticks >= long.MaxValue / 2 ? long.MaxValue : Stopwatch.GetTimestamp() + (long)Math.Max(0, ticks);
        if (track)
        {
            _tracked = new(ReferenceEqualityComparer.Instance!);
            _outSegs = [];
        }
    }

    public SandboxLimits Limits { get; }

    public int Line => _line;

    public int Column => _col;

    public int OutputLength => _out.Length;

    public List<(int Start, int End)> Generations { get; } = [];

    public string Output => _out.ToString();

    public List<Provenance>? OutputProvenance => _outSegs;

    public void At(Expr e) { _line = e.Line; _col = e.Column; }

    public void At(Stmt s) { _line = s.Line; _col = s.Column; }

    public PyError ErrorAt(Expr e, string message)
    {
        At(e);
        return new PyError(message);
    }

    // ---- output ----

    public void Write(string s)
    {
        if (_out.Length + s.Length > Limits.MaxOutputChars) throw new PyLimit($"output exceeds {Limits.MaxOutputChars} characters");
        _out.Append(s);
    }

    public void WriteValue(object? v)
    {
        string s = v as string ?? PyOps.Str(v);
        if (_tracked is not null && s.Length > 0 && _tracked.TryGetValue(s, out var segs))
            foreach (var p in segs) _outSegs!.Add(p with { Offset = p.Offset + _out.Length });
        Write(s);
    }

    /// <summary>Runs <paramref name="body"/> with output redirected; returns what it wrote (with its provenance).</summary>
    public string Capture(Func<Flow> body)
    {
        var (savedOut, savedSegs) = (_out, _outSegs);
        _out = new StringBuilder();
        _outSegs = _tracked is null ? null : [];
        _captureDepth++;
        try
        {
            body();
            var s = _out.ToString();
            if (_outSegs is { Count: > 0 } && s.Length > 0) _tracked![s] = _outSegs;
            return s;
        }
        finally
        {
            _captureDepth--;
            (_out, _outSegs) = (savedOut, savedSegs);
        }
    }

    public void RecordGeneration(int start, int end)
    {
        if (_captureDepth == 0) Generations.Add((start, end));
    }

    // ---- provenance ----

    /// <summary>Marks <paramref name="s"/> as source number <paramref name="source"/> (tracking renders only).</summary>
    public void TrackSource(string s, int source)
    {
        if (_tracked is not null && s.Length > 0) _tracked[s] = [new Provenance(0, s.Length, source, 0)];
    }

    public object? TrackConcat(object? result, object? a, object? b)
    {
        if (_tracked is null || result is not string r || a is not string sa || b is not string sb) return result;
        if (ReferenceEquals(r, sa) || ReferenceEquals(r, sb)) return result;
        _tracked.TryGetValue(sa, out var pa);
        _tracked.TryGetValue(sb, out var pb);
        if (pa is null && pb is null) return result;
        var segs = new List<Provenance>();
        if (pa is not null) segs.AddRange(pa);
        if (pb is not null) foreach (var p in pb) segs.Add(p with { Offset = p.Offset + sa.Length });
        _tracked[r] = segs;
        return result;
    }

    /// <summary>Carries the provenance of joined parts (and of the separator) into <paramref name="result"/>.</summary>
    public void TrackJoin(string result, string sep, List<string> parts)
    {
        if (_tracked is null || result.Length == 0) return;
        List<Provenance>? segs = null;
        _tracked.TryGetValue(sep, out var ps);
        int off = 0;
        for (int i = 0; i < parts.Count; i++)
        {
            if (i > 0)
            {
                if (ps is not null) foreach (var p in ps) (segs ??= []).Add(p with { Offset = p.Offset + off });
                off += sep.Length;
            }
            if (_tracked.TryGetValue(parts[i], out var pp)) foreach (var p in pp) (segs ??= []).Add(p with { Offset = p.Offset + off });
            off += parts[i].Length;
        }
        if (segs is not null) _tracked[result] = segs;
    }

    /// <summary>Records that <paramref name="result"/> equals <paramref name="source"/>[offset..offset+result.Length].</summary>
    public string TrackSubstring(string source, string result, int offset)
    {
        if (_tracked is null || result.Length == 0 || ReferenceEquals(source, result) || !_tracked.TryGetValue(source, out var ps)) return result;
        var segs = new List<Provenance>();
        int end = offset + result.Length;
        foreach (var p in ps)
        {
            int lo = Math.Max(p.Offset, offset), hi = Math.Min(p.Offset + p.Length, end);
            if (hi > lo) segs.Add(new Provenance(lo - offset, hi - lo, p.Source, p.SourceOffset + (lo - p.Offset)));
        }
        if (segs.Count > 0) _tracked[result] = segs;
        return result;
    }

    public object Concat(object? a, object? b)
    {
        string sa = PyOps.Str(a), sb = PyOps.Str(b);
        if ((long)sa.Length + sb.Length > Limits.MaxOutputChars) throw new PyLimit($"a string would exceed {Limits.MaxOutputChars} characters");
        return TrackConcat(string.Concat(sa, sb), sa, sb)!;
    }

    // ---- sandbox counters ----

    public void CountIteration(Stmt where)
    {
        if (++_iterations > Limits.MaxLoopIterations) { At(where); throw new PyLimit($"more than {Limits.MaxLoopIterations} loop iterations"); }
        if ((_iterations & 255) == 0) CheckTime(where);
    }

    public void CheckTime(Stmt where)
    {
        if (Stopwatch.GetTimestamp() > _deadline) { At(where); throw new PyLimit($"render took longer than {Limits.Timeout.TotalSeconds:0.###} s"); }
    }

    public void Enter(Stmt where)
    {
        if (++_depth > Limits.MaxRecursionDepth) { At(where); throw new PyLimit($"macro calls nested deeper than {Limits.MaxRecursionDepth}"); }
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        CheckTime(where);
    }

    public void Leave() => _depth--;

    // ---- names, attributes, items, calls ----

    public object? LookupGlobal(string name)
    {
        if (_context.TryGetValue(name, out var v)) return v;
        return Globals.TryGet(name, out var g) ? g : new Undefined($"'{name}' is undefined");
    }

    public object? GetAttr(object? o, string name)
    {
        switch (o)
        {
            case PyDict d:
                if (Methods.IsDictMethod(name)) return new BoundMethod(d, name);
                return d.TryGetValue(name, out var v) ? v : new Undefined($"'dict object' has no attribute '{name}'");
            case string s:
                return Methods.IsStrMethod(name) ? new BoundMethod(s, name) : new Undefined($"'str object' has no attribute '{name}'");
            case PyList l:
                return Methods.IsListMethod(name, l.Kind) ? new BoundMethod(l, name) : new Undefined($"'{PyOps.TypeName(l)} object' has no attribute '{name}'");
            case PyNamespace n:
                return n.Attributes.TryGetValue(name, out var nv) ? nv : new Undefined($"'Namespace object' has no attribute '{name}'");
            case LoopContext loop:
                return loop.Get(name);
            case Undefined u:
                throw u.Error();
            case null:
                return new Undefined($"'None' has no attribute '{name}'");
            default:
                return new Undefined($"'{PyOps.TypeName(o)} object' has no attribute '{name}'");
        }
    }

    public object? GetItem(object? o, object? key)
    {
        switch (o)
        {
            case PyDict d:
                if (PyOps.IsHashable(key) && d.TryGetValue(PyDict.In(key), out var v)) return v;
                if (key is string ks && Methods.IsDictMethod(ks)) return new BoundMethod(d, ks);
                return new Undefined($"'dict object' has no attribute '{PyOps.Str(key)}'");
            case PyList { Kind: not ListKind.Generator } l when key is long or bool:
                long i = key is bool b ? (b ? 1 : 0) : (long)key;
                if (i < 0) i += l.Count;
                return i >= 0 && i < l.Count ? l[(int)i] : new Undefined($"'{PyOps.TypeName(l)} object' has no element {PyOps.Str(key)}");
            case string s when key is long or bool:
                long j = key is bool c ? (c ? 1 : 0) : (long)key;
                if (!PyOps.HasSurrogates(s))
                {
                    if (j < 0) j += s.Length;
                    return j >= 0 && j < s.Length ? TrackSubstring(s, s[(int)j].ToString(), (int)j) : new Undefined($"'str object' has no element {j}");
                }
                var cps = PyOps.CodePoints(s);
                if (j < 0) j += cps.Length;
                return j >= 0 && j < cps.Length ? char.ConvertFromUtf32(cps[j]) : new Undefined($"'str object' has no element {j}");
            case LoopContext loop when key is string ln:
                return loop.Get(ln);
            case PyNamespace n when key is string nk:
                return n.Attributes.TryGetValue(nk, out var nv) ? nv : new Undefined($"'Namespace object' has no attribute '{nk}'");
            case Undefined u:
                throw u.Error();
            default:
                if (key is string name && o is not null) return GetAttr(o, name);
                return new Undefined($"'{PyOps.TypeName(o)} object' has no element {PyOps.Repr(key)}");
        }
    }

    public object? Call(object? callee, List<object?> args, List<KeyValuePair<string, object?>>? kwargs) => callee switch
    {
        PyCallable c => c.Call(this, args, kwargs),
        Undefined u => throw u.Error(),
        _ => throw new PyError($"TypeError: '{PyOps.TypeName(callee)}' object is not callable"),
    };
}
