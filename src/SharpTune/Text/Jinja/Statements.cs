namespace SharpTune.Text.Jinja;

internal enum Flow : byte { Normal, Break, Continue }

/// <summary>A variable scope. Loops and macros open one; if-blocks do not (as in jinja2).</summary>
internal sealed class Frame(Frame? parent)
{
    /// <summary>
    /// Marks a name the scope assigns but has not assigned yet, and does not itself read before assigning: jinja2
    /// compiles such a name to a local that starts out missing, so inner scopes (loops, macros, blocks) see it as
    /// undefined instead of finding an outer value.
    /// </summary>
    public static readonly object Missing = new();

    public readonly Frame? Parent = parent;
    private Dictionary<string, object?>? _vars;

    /// <summary>A scope frame with its not-yet-assigned names marked (see <see cref="Missing"/>).</summary>
    public static Frame Open(Frame? parent, string[] undeclared)
    {
        var f = new Frame(parent);
        foreach (var n in undeclared) f.Set(n, Missing);
        return f;
    }

    public bool Lookup(string name, out object? value)
    {
        for (var f = this; f is not null; f = f.Parent)
            if (f._vars is not null && f._vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => (_vars ??= new(StringComparer.Ordinal))[name] = value;
}

/// <summary>Names a scope must start as missing (filled in once the whole template is parsed).</summary>
internal sealed class ScopeInfo
{
    public string[] Undeclared = [];
}

/// <summary>A statement node; writes to the evaluator's output.</summary>
internal abstract class Stmt
{
    public int Line;
    public int Column;

    public abstract Flow Exec(Evaluator ev, Frame f);

    public static Flow ExecBody(List<Stmt> body, Evaluator ev, Frame f)
    {
        // Bodies nest (blocks, macro calls); each checks that enough stack is left for its expressions.
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        foreach (var s in body)
        {
            var flow = s.Exec(ev, f);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }
}

internal sealed class DataStmt(string text) : Stmt
{
    public readonly string Text = text;

    public override Flow Exec(Evaluator ev, Frame f)
    {
        ev.Write(Text);
        return Flow.Normal;
    }
}

internal sealed class OutputStmt(Expr value) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f)
    {
        ev.WriteValue(value.Eval(ev, f));
        return Flow.Normal;
    }
}

internal sealed class IfStmt(List<(Expr Test, List<Stmt> Body)> branches, List<Stmt>? otherwise) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f)
    {
        foreach (var (t, body) in branches)
            if (PyOps.Truthy(t.Eval(ev, f))) return ExecBody(body, ev, f);
        return otherwise is null ? Flow.Normal : ExecBody(otherwise, ev, f);
    }
}

/// <summary>What <c>set</c> and <c>for</c> assign to: names (unpacked when several) or a namespace attribute.</summary>
internal sealed class Target(List<string> names, string? attribute, bool tuple)
{
    public readonly List<string> Names = names;
    public readonly string? Attribute = attribute;
    public readonly bool Tuple = tuple;

    public void Assign(Evaluator ev, Frame f, object? value)
    {
        if (Attribute is not null)
        {
            if (!f.Lookup(Names[0], out var ns)) ns = ev.LookupGlobal(Names[0]);
            if (ReferenceEquals(ns, Frame.Missing)) ns = null;
            if (ns is not PyNamespace n) throw new PyError("TypeError: cannot assign attribute on non-namespace object");
            n.Attributes[Attribute] = value;
            return;
        }
        if (!Tuple) { f.Set(Names[0], value); return; }
        if (value is Undefined u) throw u.Error();
        var items = value is PyList l && l.Kind != ListKind.Generator ? l : new PyList(PyOps.Iterate(value));
        if (items.Count != Names.Count)
            throw new PyError(items.Count > Names.Count ? $"ValueError: too many values to unpack (expected {Names.Count})" : $"ValueError: not enough values to unpack (expected {Names.Count}, got {items.Count})");
        for (int i = 0; i < Names.Count; i++) f.Set(Names[i], items[i]);
    }
}

internal sealed class SetStmt(Target target, Expr value) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f)
    {
        var v = value.Eval(ev, f);
        ev.At(this);
        target.Assign(ev, f, v);
        return Flow.Normal;
    }
}

internal sealed class SetBlockStmt(Target target, List<Stmt> body, List<FilterExpr> filters, ScopeInfo scope) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f)
    {
        object? v = ev.Capture(() => ExecBody(body, ev, Frame.Open(f, scope.Undeclared)));
        foreach (var flt in filters) v = flt.Apply(ev, f, v);
        ev.At(this);
        target.Assign(ev, f, v);
        return Flow.Normal;
    }
}

internal sealed class ForStmt(Target target, Expr iter, Expr? condition, List<Stmt> body, List<Stmt>? otherwise, ScopeInfo scope, ScopeInfo elseScope) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f)
    {
        var seq = iter.Eval(ev, f);
        ev.At(this);
        var items = new List<object?>(PyOps.Iterate(seq));
        var frame = Frame.Open(f, scope.Undeclared);
        if (condition is not null)
        {
            var kept = new List<object?>(items.Count);
            foreach (var it in items)
            {
                target.Assign(ev, frame, it);
                if (PyOps.Truthy(condition.Eval(ev, frame))) kept.Add(it);
            }
            items = kept;
        }
        var loop = new LoopContext(items);
        // jinja2 clears its "run else" flag at the end of each iteration's body; break and continue skip that.
        bool runElse = true;
        for (int i = 0; i < items.Count; i++)
        {
            ev.CountIteration(this);
            loop.Index0 = i;
            ev.At(this);
            // jinja2 gives every iteration fresh locals: a set inside the body does not carry to the next one.
            var iteration = Frame.Open(f, scope.Undeclared);
            iteration.Set("loop", loop);
            target.Assign(ev, iteration, items[i]);
            var flow = ExecBody(body, ev, iteration);
            if (flow == Flow.Break) break;
            if (flow == Flow.Normal) runElse = false;
        }
        return runElse && otherwise is not null ? ExecBody(otherwise, ev, Frame.Open(f, elseScope.Undeclared)) : Flow.Normal;
    }
}

/// <summary>The <c>loop</c> variable of a for-loop.</summary>
internal sealed class LoopContext(List<object?> items)
{
    public readonly List<object?> Items = items;
    public int Index0;

    public object? Get(string name) => name switch
    {
        "index0" => Box.Int(Index0),
        "index" => Box.Int(Index0 + 1),
        "revindex" => Box.Int(Items.Count - Index0),
        "revindex0" => Box.Int(Items.Count - Index0 - 1),
        "first" => Box.Bool(Index0 == 0),
        "last" => Box.Bool(Index0 == Items.Count - 1),
        "length" => Box.Int(Items.Count),
        "depth" => Box.Int(1),
        "depth0" => Box.Int(0),
        "previtem" => Index0 > 0 ? Items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 < Items.Count - 1 ? Items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new NativeCallable("cycle", (_, args, _) =>
            args.Count == 0 ? throw new PyError("TypeError: no items for cycling given") : args[Index0 % args.Count]),
        "changed" => new NativeCallable("changed", (_, _, _) => throw new PyError("loop.changed is not supported")),
        _ => new Undefined($"'LoopContext object' has no attribute '{name}'"),
    };
}

internal sealed class BreakStmt(bool isBreak) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f) => isBreak ? Flow.Break : Flow.Continue;
}

/// <summary>What a macro body reads that changes how it may be called (jinja2 checks these at call time).</summary>
internal sealed record MacroShape(ScopeInfo Scope, bool CatchesKwargs, bool CatchesVarargs, bool UsesCaller);

internal sealed class MacroStmt(string name, List<(string Name, Expr? Default)> parameters, List<Stmt> body, MacroShape shape) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f)
    {
        f.Set(name, new Macro(name, parameters, body, f, this, shape));
        return Flow.Normal;
    }
}

/// <summary>A macro defined by the template; calling it renders its body to a string.</summary>
internal sealed class Macro(string name, List<(string Name, Expr? Default)> parameters, List<Stmt> body, Frame closure, Stmt where, MacroShape shape) : PyCallable
{
    public override string Name { get; } = name;

    public PyCallable? Caller;

    public override object? Call(Evaluator ev, List<object?> args, List<KeyValuePair<string, object?>>? kwargs) => Invoke(ev, args, kwargs, Caller);

    public object? Invoke(Evaluator ev, List<object?> args, List<KeyValuePair<string, object?>>? kwargs, PyCallable? caller)
    {
        if (args.Count > parameters.Count && !shape.CatchesVarargs)
            throw new PyError($"TypeError: macro '{Name}' takes not more than {parameters.Count} argument(s)");
        if (caller is not null && !shape.UsesCaller)
            throw new PyError($"TypeError: macro '{Name}' takes no keyword argument 'caller'");
        var frame = Frame.Open(closure, shape.Scope.Undeclared);
        var extraKw = new PyDict();
        var given = new bool[parameters.Count];
        for (int i = 0; i < args.Count && i < parameters.Count; i++) { frame.Set(parameters[i].Name, args[i]); given[i] = true; }
        if (kwargs is not null)
            foreach (var (k, v) in kwargs)
            {
                int i = parameters.FindIndex(p => p.Name == k);
                if (i < 0)
                {
                    if (!shape.CatchesKwargs) throw new PyError($"TypeError: macro '{Name}' takes no keyword argument '{k}'");
                    extraKw[k] = v;
                    continue;
                }
                if (given[i]) throw new PyError($"TypeError: macro '{Name}' got multiple values for argument '{k}'");
                frame.Set(k, v);
                given[i] = true;
            }
        for (int i = 0; i < parameters.Count; i++)
            if (!given[i])
                frame.Set(parameters[i].Name, parameters[i].Default is { } d ? d.Eval(ev, frame) : new Undefined($"parameter '{parameters[i].Name}' was not provided"));
        frame.Set("varargs", new PyList(args.Skip(parameters.Count)) { Kind = ListKind.Tuple });
        frame.Set("kwargs", extraKw);
        if (caller is not null) frame.Set("caller", caller);
        ev.Enter(where);
        try
        {
            return ev.Capture(() => Stmt.ExecBody(body, ev, frame));
        }
        finally { ev.Leave(); }
    }
}

internal sealed class CallBlockStmt(CallExpr call, List<(string Name, Expr? Default)> parameters, List<Stmt> body, MacroShape shape) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f)
    {
        var callee = call.Callee.Eval(ev, f);
        var (args, kw) = call.Args.Eval(ev, f);
        ev.At(this);
        var caller = new Macro("caller", parameters, body, f, this, shape);
        if (callee is Macro m) ev.WriteValue(m.Invoke(ev, args, kw, caller));
        else
        {
            kw ??= [];
            kw.Add(new("caller", caller));
            ev.WriteValue(ev.Call(callee, args, kw));
        }
        return Flow.Normal;
    }
}

internal sealed class FilterBlockStmt(List<FilterExpr> filters, List<Stmt> body, ScopeInfo scope) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f)
    {
        object? v = ev.Capture(() => ExecBody(body, ev, Frame.Open(f, scope.Undeclared)));
        foreach (var flt in filters) v = flt.Apply(ev, f, v);
        ev.WriteValue(v);
        return Flow.Normal;
    }
}

/// <summary>transformers' <c>{% generation %}</c> block: output unchanged, its span recorded.</summary>
internal sealed class GenerationStmt(List<Stmt> body, ScopeInfo scope) : Stmt
{
    public override Flow Exec(Evaluator ev, Frame f)
    {
        int start = ev.OutputLength;
        var flow = ExecBody(body, ev, Frame.Open(f, scope.Undeclared));
        ev.RecordGeneration(start, ev.OutputLength);
        return flow;
    }
}
