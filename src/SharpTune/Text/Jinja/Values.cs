namespace SharpTune.Text.Jinja;

// Runtime values follow Python: null is None, bool, long (int), double (float), string (str), PyList (list or
// tuple), PyDict (dict, insertion-ordered), PyNamespace, Undefined, PyCallable. Nothing else ever reaches a
// template, so no .NET member is reachable from one.

/// <summary>jinja2's default <c>Undefined</c>: prints empty, is falsy, iterates empty; most other uses fail.</summary>
internal sealed class Undefined
{
    public Undefined(string hint) => Hint = hint;

    /// <summary>The jinja2-style reason, e.g. "'x' is undefined" or "'dict object' has no attribute 'y'".</summary>
    public string Hint { get; }

    public PyError Error() => new("UndefinedError: " + Hint);
}

/// <summary>What kind of sequence a <see cref="PyList"/> prints as.</summary>
internal enum ListKind : byte { List, Tuple, DictItems, DictKeys, DictValues, Generator }

/// <summary>A Python list (or tuple, dict view, filter generator).</summary>
internal sealed class PyList : List<object?>
{
    public PyList() { }
    public PyList(int capacity) : base(capacity) { }
    public PyList(IEnumerable<object?> items, ListKind kind = ListKind.List) : base(items) => Kind = kind;

    public ListKind Kind { get; init; }
}

/// <summary>A Python dict: insertion-ordered (nothing is ever removed: the sandbox is immutable).</summary>
internal sealed class PyDict : Dictionary<object, object?>
{
    /// <summary>Stands for None as a key (.NET dictionaries take no null keys).</summary>
    public static readonly object NoneKey = new();

    public PyDict() : base(PyKeyComparer.Instance) { }
    public PyDict(int capacity) : base(capacity, PyKeyComparer.Instance) { }

    public static object In(object? key) => key ?? NoneKey;

    public static object? Out(object key) => ReferenceEquals(key, NoneKey) ? null : key;

    public IEnumerable<object?> PyKeys => Keys.Select(Out);
}

/// <summary>jinja2's <c>namespace()</c>: the one object whose attributes a template may set.</summary>
internal sealed class PyNamespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>Something a template can call: a global, a macro, a bound method, <c>loop.cycle</c>, <c>caller</c>.</summary>
internal abstract class PyCallable
{
    public abstract string Name { get; }

    public abstract object? Call(Evaluator ev, List<object?> args, List<KeyValuePair<string, object?>>? kwargs);
}

/// <summary>A callable implemented by a delegate.</summary>
internal sealed class NativeCallable : PyCallable
{
    private readonly Func<Evaluator, List<object?>, List<KeyValuePair<string, object?>>?, object?> _fn;

    public NativeCallable(string name, Func<Evaluator, List<object?>, List<KeyValuePair<string, object?>>?, object?> fn)
    {
        Name = name;
        _fn = fn;
    }

    public override string Name { get; }

    public override object? Call(Evaluator ev, List<object?> args, List<KeyValuePair<string, object?>>? kwargs) => _fn(ev, args, kwargs);
}

/// <summary>A method of a string, list or dict, bound to its receiver (dispatch in <see cref="Methods"/>).</summary>
internal sealed class BoundMethod : PyCallable
{
    public BoundMethod(object receiver, string name)
    {
        Receiver = receiver;
        Name = name;
    }

    public object Receiver { get; }

    public override string Name { get; }

    public override object? Call(Evaluator ev, List<object?> args, List<KeyValuePair<string, object?>>? kwargs) =>
        Methods.Call(ev, Receiver, Name, args, kwargs);
}

/// <summary>Python dict-key equality: 1 == 1.0 == True hash alike; strings ordinal.</summary>
internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => PyOps.Eq(x, y);

    public int GetHashCode(object obj) => obj switch
    {
        string s => s.GetHashCode(),
        _ when ReferenceEquals(obj, PyDict.NoneKey) => 0x5eed,
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d => d == Math.Floor(d) && Math.Abs(d) < 9e18 ? ((long)d).GetHashCode() : d.GetHashCode(),
        PyList l => l.Count,
        _ => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj),
    };
}

/// <summary>Boxed constants, so that common values do not allocate.</summary>
internal static class Box
{
    public static readonly object True = true;
    public static readonly object False = false;
    private static readonly object[] SmallInts = Enumerable.Range(-16, 1040).Select(i => (object)(long)i).ToArray();

    public static object Bool(bool b) => b ? True : False;

    public static object Int(long v) => v >= -16 && v < 1024 ? SmallInts[v + 16] : v;
}
