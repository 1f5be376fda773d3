namespace SharpTune.Text.Jinja;

/// <summary>An expression node; evaluates to a Python-like value.</summary>
internal abstract class Expr
{
    public int Line;
    public int Column;

    public abstract object? Eval(Evaluator ev, Frame f);
}

internal sealed class ConstExpr(object? value) : Expr
{
    public readonly object? Value = value;

    public override object? Eval(Evaluator ev, Frame f) => Value;
}

internal sealed class NameExpr(string name) : Expr
{
    public readonly string Name = name;

    public override object? Eval(Evaluator ev, Frame f) =>
        f.Lookup(Name, out var v) ? (ReferenceEquals(v, Frame.Missing) ? new Undefined($"'{Name}' is undefined") : v) : ev.LookupGlobal(Name);
}

internal sealed class ListExpr(List<Expr> items, bool tuple) : Expr
{
    public readonly List<Expr> Items = items;
    public readonly bool Tuple = tuple;

    public override object? Eval(Evaluator ev, Frame f)
    {
        var l = new PyList(Items.Count) { Kind = Tuple ? ListKind.Tuple : ListKind.List };
        foreach (var e in Items) l.Add(e.Eval(ev, f));
        return l;
    }
}

internal sealed class DictExpr(List<(Expr Key, Expr Value)> pairs) : Expr
{
    public readonly List<(Expr Key, Expr Value)> Pairs = pairs;

    public override object? Eval(Evaluator ev, Frame f)
    {
        var d = new PyDict(Pairs.Count);
        foreach (var (k, v) in Pairs)
        {
            var key = k.Eval(ev, f);
            if (!PyOps.IsHashable(key)) { ev.At(this); throw new PyError($"TypeError: unhashable type: '{PyOps.TypeName(key)}'"); }
            d[PyDict.In(key)] = v.Eval(ev, f);
        }
        return d;
    }
}

internal sealed class GetAttrExpr(Expr obj, string name) : Expr
{
    public readonly Expr Obj = obj;
    public readonly string Name = name;

    public override object? Eval(Evaluator ev, Frame f)
    {
        var o = Obj.Eval(ev, f);
        ev.At(this);
        return ev.GetAttr(o, Name);
    }
}

internal sealed class GetItemExpr(Expr obj, Expr index) : Expr
{
    public readonly Expr Obj = obj;
    public readonly Expr Index = index;

    public override object? Eval(Evaluator ev, Frame f)
    {
        var o = Obj.Eval(ev, f);
        var i = Index.Eval(ev, f);
        ev.At(this);
        return ev.GetItem(o, i);
    }
}

internal sealed class SliceExpr(Expr obj, Expr? start, Expr? stop, Expr? step) : Expr
{
    public override object? Eval(Evaluator ev, Frame f)
    {
        var o = obj.Eval(ev, f);
        long? a = Bound(start, ev, f), b = Bound(stop, ev, f), c = Bound(step, ev, f);
        ev.At(this);
        if (o is Undefined u) throw u.Error();
        // jinja2 compiles a slice to a plain Python subscript, so slicing a non-sequence is a TypeError. (Its
        // optimizer folds constant expressions such as 7[1:] through getitem instead, giving Undefined; templates
        // do not slice literals, so that artefact is not reproduced.)
        return PyOps.Slice(o, a, b, c);
    }

    private long? Bound(Expr? e, Evaluator ev, Frame f)
    {
        if (e is null) return null;
        var v = e.Eval(ev, f);
        return v switch
        {
            null => null,
            long l => l,
            bool b => b ? 1 : 0,
            _ => throw ev.ErrorAt(this, "TypeError: slice indices must be integers or None"),
        };
    }
}

/// <summary>Arguments of a call, filter or test, evaluated.</summary>
internal sealed class ArgList
{
    public static readonly ArgList Empty = new([], [], null, null);

    public ArgList(List<Expr> positional, List<(string Name, Expr Value)> keywords, Expr? star, Expr? doubleStar)
    {
        Positional = positional;
        Keywords = keywords;
        Star = star;
        DoubleStar = doubleStar;
    }

    public readonly List<Expr> Positional;
    public readonly List<(string Name, Expr Value)> Keywords;
    public readonly Expr? Star;
    public readonly Expr? DoubleStar;

    public (List<object?> Args, List<KeyValuePair<string, object?>>? Kwargs) Eval(Evaluator ev, Frame f)
    {
        var args = new List<object?>(Positional.Count);
        foreach (var e in Positional) args.Add(e.Eval(ev, f));
        if (Star is not null) args.AddRange(PyOps.Iterate(Star.Eval(ev, f)));
        List<KeyValuePair<string, object?>>? kw = null;
        if (Keywords.Count > 0 || DoubleStar is not null)
        {
            kw = new(Keywords.Count);
            foreach (var (n, e) in Keywords) kw.Add(new(n, e.Eval(ev, f)));
            if (DoubleStar is not null)
            {
                if (DoubleStar.Eval(ev, f) is not PyDict d) throw new PyError("TypeError: argument after ** must be a mapping");
                foreach (var (k, v) in d) kw.Add(new(k as string ?? throw new PyError("TypeError: keywords must be strings"), v));
            }
        }
        return (args, kw);
    }
}

internal sealed class CallExpr(Expr callee, ArgList args) : Expr
{
    public readonly Expr Callee = callee;
    public readonly ArgList Args = args;

    public override object? Eval(Evaluator ev, Frame f)
    {
        var c = Callee.Eval(ev, f);
        var (a, kw) = Args.Eval(ev, f);
        ev.At(this);
        return ev.Call(c, a, kw);
    }
}

internal sealed class FilterExpr(Expr? value, string name, ArgList args) : Expr
{
    public readonly Expr? Value = value;
    public readonly string Name = name;
    public readonly ArgList Args = args;
    public Filters.Fn? Fn;

    public override object? Eval(Evaluator ev, Frame f) => Apply(ev, f, Value!.Eval(ev, f));

    public object? Apply(Evaluator ev, Frame f, object? v)
    {
        var (a, kw) = Args.Eval(ev, f);
        ev.At(this);
        return Fn!(ev, v, a, kw);
    }
}

internal sealed class TestExpr(Expr value, string name, ArgList args, bool negated) : Expr
{
    public readonly Expr Value = value;
    public readonly string Name = name;
    public readonly ArgList Args = args;
    public readonly bool Negated = negated;
    public Tests.Fn? Fn;

    public override object? Eval(Evaluator ev, Frame f)
    {
        var v = Value.Eval(ev, f);
        var (a, kw) = Args.Eval(ev, f);
        ev.At(this);
        return Box.Bool(Fn!(ev, v, a, kw) != Negated);
    }
}

internal enum BinOp : byte { Add, Sub, Mul, Div, FloorDiv, Mod, Pow, Concat }

internal sealed class BinaryExpr(BinOp op, Expr left, Expr right) : Expr
{
    public readonly BinOp Op = op;

    public override object? Eval(Evaluator ev, Frame f)
    {
        var a = left.Eval(ev, f);
        var b = right.Eval(ev, f);
        ev.At(this);
        int max = ev.Limits.MaxOutputChars;
        return Op switch
        {
            BinOp.Add => ev.TrackConcat(PyOps.Add(a, b, max), a, b),
            BinOp.Sub => PyOps.Sub(a, b),
            BinOp.Mul => PyOps.Mul(a, b, max),
            BinOp.Div => PyOps.TrueDiv(a, b),
            BinOp.FloorDiv => PyOps.FloorDiv(a, b),
            BinOp.Mod => PyOps.Mod(a, b),
            BinOp.Pow => PyOps.Pow(a, b),
            _ => ev.Concat(a, b),
        };
    }
}

internal sealed class UnaryExpr(bool negate, Expr operand) : Expr
{
    public override object? Eval(Evaluator ev, Frame f)
    {
        var v = operand.Eval(ev, f);
        ev.At(this);
        if (v is Undefined u) throw u.Error();
        return negate ? PyOps.Negate(v) : PyOps.Plus(v);
    }
}

internal sealed class AndExpr(Expr left, Expr right) : Expr
{
    public override object? Eval(Evaluator ev, Frame f)
    {
        var a = left.Eval(ev, f);
        return PyOps.Truthy(a) ? right.Eval(ev, f) : a;
    }
}

internal sealed class OrExpr(Expr left, Expr right) : Expr
{
    public override object? Eval(Evaluator ev, Frame f)
    {
        var a = left.Eval(ev, f);
        return PyOps.Truthy(a) ? a : right.Eval(ev, f);
    }
}

internal sealed class NotExpr(Expr operand) : Expr
{
    public override object? Eval(Evaluator ev, Frame f) => Box.Bool(!PyOps.Truthy(operand.Eval(ev, f)));
}

internal sealed class CompareExpr(Expr first, List<(string Op, Expr Right)> rest) : Expr
{
    public override object? Eval(Evaluator ev, Frame f)
    {
        var a = first.Eval(ev, f);
        foreach (var (op, re) in rest)
        {
            var b = re.Eval(ev, f);
            ev.At(this);
            bool r = op switch
            {
                "==" => PyOps.Eq(a, b),
                "!=" => !PyOps.Eq(a, b),
                "<" => PyOps.Compare(a, b, op) < 0,
                "<=" => PyOps.Compare(a, b, op) <= 0,
                ">" => PyOps.Compare(a, b, op) > 0,
                ">=" => PyOps.Compare(a, b, op) >= 0,
                "in" => PyOps.Contains(b, a),
                _ => !PyOps.Contains(b, a),
            };
            if (!r) return Box.False;
            a = b;
        }
        return Box.True;
    }
}

internal sealed class CondExpr(Expr test, Expr then, Expr? otherwise) : Expr
{
    public override object? Eval(Evaluator ev, Frame f)
    {
        if (PyOps.Truthy(test.Eval(ev, f))) return then.Eval(ev, f);
        return otherwise is null ? new Undefined("the inline if-expression evaluated to false and no else section was defined") : otherwise.Eval(ev, f);
    }
}
