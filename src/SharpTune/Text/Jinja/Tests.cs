namespace SharpTune.Text.Jinja;

/// <summary>jinja2's tests (<c>x is defined</c>, <c>x is divisibleby 3</c>, ...).</summary>
internal static class Tests
{
    public delegate bool Fn(Evaluator ev, object? value, List<object?> args, List<KeyValuePair<string, object?>>? kwargs);

    private static object? A0(List<object?> a, List<KeyValuePair<string, object?>>? kw, string name) =>
        Args.Has(a, kw, 0, name) ? Args.Get(a, kw, 0, name, null) : throw new PyError($"TypeError: test needs an argument '{name}'");

    private static readonly Dictionary<string, Fn> Table = new(StringComparer.Ordinal)
    {
        ["defined"] = (_, v, _, _) => v is not Undefined,
        ["undefined"] = (_, v, _, _) => v is Undefined,
        ["none"] = (_, v, _, _) => v is null,
        ["string"] = (_, v, _, _) => v is string,
        ["number"] = (_, v, _, _) => v is long or double or bool,
        ["integer"] = (_, v, _, _) => v is long,
        ["float"] = (_, v, _, _) => v is double,
        ["boolean"] = (_, v, _, _) => v is bool,
        ["true"] = (_, v, _, _) => v is true,
        ["false"] = (_, v, _, _) => v is false,
        ["mapping"] = (_, v, _, _) => v is PyDict,
        ["iterable"] = (_, v, _, _) => v is string or PyList or PyDict or Undefined,
        ["sequence"] = (_, v, _, _) => v is string or PyList { Kind: not ListKind.Generator } or PyDict or Undefined,
        ["callable"] = (_, v, _, _) => v is PyCallable or Undefined, // Undefined defines __call__ (which raises)
        ["odd"] = (_, v, _, _) => PyOps.Eq(PyOps.Mod(v, Box.Int(2)), Box.Int(1)),
        ["even"] = (_, v, _, _) => PyOps.Eq(PyOps.Mod(v, Box.Int(2)), Box.Int(0)),
        ["divisibleby"] = (_, v, a, kw) =>
        {
            var n = A0(a, kw, "num");
            if (PyOps.Eq(n, Box.Int(0))) throw new PyError("ZeroDivisionError: integer division or modulo by zero");
            return PyOps.Eq(PyOps.Mod(v, n), Box.Int(0));
        },
        ["equalto"] = (_, v, a, kw) => PyOps.Eq(v, A0(a, kw, "other")),
        ["eq"] = (_, v, a, kw) => PyOps.Eq(v, A0(a, kw, "other")),
        ["=="] = (_, v, a, kw) => PyOps.Eq(v, A0(a, kw, "other")),
        ["ne"] = (_, v, a, kw) => !PyOps.Eq(v, A0(a, kw, "other")),
        ["!="] = (_, v, a, kw) => !PyOps.Eq(v, A0(a, kw, "other")),
        ["lt"] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), "<") < 0,
        ["lessthan"] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), "<") < 0,
        ["<"] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), "<") < 0,
        ["le"] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), "<=") <= 0,
        ["<="] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), "<=") <= 0,
        ["gt"] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), ">") > 0,
        ["greaterthan"] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), ">") > 0,
        [">"] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), ">") > 0,
        ["ge"] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), ">=") >= 0,
        [">="] = (_, v, a, kw) => PyOps.Compare(v, A0(a, kw, "other"), ">=") >= 0,
        ["in"] = (_, v, a, kw) => PyOps.Contains(A0(a, kw, "seq"), v),
        ["sameas"] = (_, v, a, kw) => SameAs(v, A0(a, kw, "other")),
        ["lower"] = (_, v, _, _) => PyOps.Str(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsUpper),
        ["upper"] = (_, v, _, _) => PyOps.Str(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsLower),
        ["escaped"] = (_, _, _, _) => false,
        ["filter"] = (_, v, _, _) => v is string s && Filters.Exists(s),
        ["test"] = (_, v, _, _) => v is string s && Table!.ContainsKey(s),
    };

    // `is sameas`: identity; Python caches None/True/False and small ints, so those compare by value here.
    private static bool SameAs(object? a, object? b) => a switch
    {
        null => b is null,
        bool x => b is bool y && x == y,
        long x when x is >= -5 and <= 256 => b is long y && x == y,
        _ => ReferenceEquals(a, b),
    };

    public static Fn? Find(string name) => Table.TryGetValue(name, out var f) ? f : null;

    public static bool Run(Evaluator ev, string name, object? value, List<object?> args)
    {
        var f = Find(name) ?? throw new PyError($"no test named '{name}'");
        return f(ev, value, args, null);
    }
}
