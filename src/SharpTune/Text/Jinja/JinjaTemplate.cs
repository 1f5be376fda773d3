using System.Collections;
using System.Text.Json;

namespace SharpTune.Text.Jinja;

/// <summary>
/// A compiled Jinja template, set up as transformers' <c>_compile_jinja_template</c> sets up jinja2: sandboxed and
/// immutable, trim_blocks and lstrip_blocks on, loop controls (<c>break</c>/<c>continue</c>) on, the <c>tojson</c>
/// filter with <c>ensure_ascii=False</c>, and the globals <c>raise_exception</c> and <c>strftime_now</c>.
/// Compile once, render many: a compiled template is immutable and may be rendered from several threads at once.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<Stmt> _body;
    private readonly ScopeInfo _root;

    private JinjaTemplate(string name, (List<Stmt> Body, ScopeInfo Root) parsed, SandboxLimits limits)
    {
        Name = name;
        _body = parsed.Body;
        _root = parsed.Root;
        Limits = limits;
    }

    /// <summary>The name used in error messages.</summary>
    public string Name { get; }

    /// <summary>The sandbox limits every render runs under.</summary>
    public SandboxLimits Limits { get; }

    /// <summary>Parses <paramref name="source"/>; throws <see cref="JinjaSyntaxException"/> naming line and column.</summary>
    public static JinjaTemplate Compile(string source, string name = "template", SandboxLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            return new JinjaTemplate(name, Parser.Parse(source, name), limits ?? SandboxLimits.Default);
        }
        catch (InsufficientExecutionStackException)
        {
            throw new JinjaSyntaxException("template nested too deeply", name, 0, 0);
        }
    }

    /// <summary>
    /// Renders with the given variables. Values may be null, bool, integers, floating-point numbers, strings,
    /// <see cref="JsonElement"/>s, dictionaries with string keys and lists of these.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        var ctx = new Dictionary<string, object?>(variables.Count, StringComparer.Ordinal);
        foreach (var (k, v) in variables) ctx[k] = JinjaValues.FromClr(v);
        return RenderCore(ctx, track: false, null).Output;
    }

    /// <summary>Renders with variables already converted to engine values (see <see cref="JinjaValues"/>).</summary>
    internal Evaluator RenderCore(IReadOnlyDictionary<string, object?> context, bool track, Action<Evaluator>? prepare)
    {
        var ev = new Evaluator(context, Limits, track);
        prepare?.Invoke(ev);
        try
        {
            Stmt.ExecBody(_body, ev, Frame.Open(null, _root.Undeclared));
            return ev;
        }
        catch (PyRaised e) { throw new JinjaRaisedException(e.Message, Name, ev.Line, ev.Column); }
        catch (PyLimit e) { throw new JinjaLimitException(e.Message, Name, ev.Line, ev.Column); }
        catch (PyError e) { throw new JinjaRuntimeException(e.Message, Name, ev.Line, ev.Column); }
        catch (InsufficientExecutionStackException) { throw new JinjaLimitException("recursion too deep", Name, ev.Line, ev.Column); }
    }
}

/// <summary>Converts .NET and JSON values into the engine's Python-like values.</summary>
public static class JinjaValues
{
    /// <summary>
    /// Converts a .NET value: null, bool, integer types, float/double/decimal, string, <see cref="JsonElement"/>,
    /// string-keyed dictionaries and enumerables. Anything else is rejected, so no .NET object reaches a template.
    /// </summary>
    public static object? FromClr(object? v) => v switch
    {
        null => null,
        string s => s,
        bool b => Box.Bool(b),
        int i => Box.Int(i),
        long l => Box.Int(l),
        short or byte or sbyte or ushort or uint => Box.Int(Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)),
        double d => d,
        float f => (double)f,
        decimal m => (double)m,
        JsonElement e => FromJson(e),
        PyList or PyDict or PyNamespace or Undefined or PyCallable => v,
        IDictionary<string, object?> d => Dict(d),
        IReadOnlyDictionary<string, object?> d => Dict(d),
        IDictionary d => DictUntyped(d),
        IEnumerable e => new PyList(e.Cast<object?>().Select(FromClr)),
        _ => throw new ArgumentException($"a template variable cannot hold a {v.GetType().Name}"),
    };

    private static PyDict Dict(IEnumerable<KeyValuePair<string, object?>> d)
    {
        var r = new PyDict();
        foreach (var (k, v) in d) r[k] = FromClr(v);
        return r;
    }

    private static PyDict DictUntyped(IDictionary d)
    {
        var r = new PyDict();
        foreach (DictionaryEntry e in d) r[FromClr(e.Key) ?? throw new ArgumentException("a dictionary key cannot be null")] = FromClr(e.Value);
        return r;
    }

    /// <summary>Converts JSON: objects keep their key order, integers become int, other numbers float.</summary>
    public static object? FromJson(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined: return null;
            case JsonValueKind.True: return Box.True;
            case JsonValueKind.False: return Box.False;
            case JsonValueKind.String: return e.GetString();
            case JsonValueKind.Number:
                string raw = e.GetRawText();
                if (raw.AsSpan().IndexOfAny(".eE") < 0 && e.TryGetInt64(out var l)) return Box.Int(l);
                // Out-of-range numbers become inf (as Python's json module parses them) rather than failing.
                return e.TryGetDouble(out var dbl) ? dbl : double.Parse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
            case JsonValueKind.Array:
                var list = new PyList(e.GetArrayLength());
                foreach (var x in e.EnumerateArray()) list.Add(FromJson(x));
                return list;
            default:
                var d = new PyDict();
                foreach (var p in e.EnumerateObject()) d[p.Name] = FromJson(p.Value);
                return d;
        }
    }
}
