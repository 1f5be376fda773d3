namespace SharpTune.Text.Jinja;

/// <summary>Recursive-descent parser for jinja2's statement and expression grammar (precedence as in jinja2).</summary>
internal sealed class Parser
{
    private const int MaxNesting = 200;
    private readonly List<Token> _t;
    private readonly string _name;
    private int _p;
    private int _depth;

    /// <summary>
    /// One variable scope as jinja2's compiler analyses it (the template, a loop body, a loop's else, a macro or
    /// caller body, a block-set or filter body): what it assigns, what it reads before assigning, every name it refers
    /// to at its own level, and every name read anywhere inside it (for macros' varargs/kwargs/caller).
    /// </summary>
    private sealed class Scope(Scope? parent)
    {
        public readonly Scope? Parent = parent;
        public readonly ScopeInfo Info = new();
        public readonly HashSet<string> Stores = new(StringComparer.Ordinal);
        public readonly HashSet<string> Params = new(StringComparer.Ordinal);
        public readonly HashSet<string> LoadsFirst = new(StringComparer.Ordinal);
        public readonly HashSet<string> Refs = new(StringComparer.Ordinal);
        public readonly HashSet<string> AllLoads = new(StringComparer.Ordinal);

        // jinja2 starts a name the scope assigns as "missing" (undefined even if an outer value exists) unless the
        // scope reads it first, assigns it only inside an if-branch, or an enclosing scope refers to it (then it
        // aliases that scope's variable).
        public void Finish()
        {
            Info.Undeclared = Stores.Where(n => !LoadsFirst.Contains(n) && !Params.Contains(n) && !OuterRefers(n))
                .Order(StringComparer.Ordinal).ToArray();
        }

        private bool OuterRefers(string n)
        {
            for (var s = Parent; s is not null; s = s.Parent) if (s.Refs.Contains(n)) return true;
            return false;
        }
    }

    private readonly List<Scope> _scopes = [];
    private readonly List<Scope> _allScopes = [];

    private Scope Current => _scopes[^1];

    private void Load(string name)
    {
        if (!Current.Stores.Contains(name)) Current.LoadsFirst.Add(name);
        Current.Refs.Add(name);
        foreach (var s in _scopes) s.AllLoads.Add(name);
    }

    private void Store(Target t)
    {
        if (t.Attribute is not null) { Load(t.Names[0]); return; }
        foreach (var n in t.Names) StoreName(n);
    }

    private void StoreName(string n)
    {
        Current.Stores.Add(n);
        Current.Refs.Add(n);
    }

    private void Param(Scope s, string n)
    {
        s.Params.Add(n);
        s.Refs.Add(n);
    }

    private Scope Push()
    {
        var s = new Scope(_scopes.Count > 0 ? Current : null);
        _scopes.Add(s);
        _allScopes.Add(s);
        return s;
    }

    private void Pop() => _scopes.RemoveAt(_scopes.Count - 1);

    private Parser(List<Token> tokens, string name)
    {
        _t = tokens;
        _name = name;
    }

    public static (List<Stmt> Body, ScopeInfo Root) Parse(string source, string name)
    {
        var p = new Parser(Lexer.Tokenize(source, name), name);
        var root = p.Push();
        var body = p.ParseBody([]);
        foreach (var s in p._allScopes) s.Finish();
        return (body, root.Info);
    }

    private Token Cur => _t[_p];

    private Token Peek(int k = 1) => _t[Math.Min(_p + k, _t.Count - 1)];

    private Token Next() => _t[_p++ < _t.Count - 1 ? _p - 1 : _t.Count - 1];

    private JinjaSyntaxException Error(string message, Token at) => new(message, _name, at.Line, at.Column);

    private void ExpectOp(string op)
    {
        if (!Cur.IsOp(op)) throw Error($"expected '{op}', got {Cur}", Cur);
        _p++;
    }

    private string ExpectName()
    {
        if (Cur.Kind != TokenKind.Name) throw Error($"expected a name, got {Cur}", Cur);
        return Next().Text;
    }

    private void ExpectBlockEnd()
    {
        if (Cur.Kind != TokenKind.BlockEnd) throw Error($"expected end of statement block, got {Cur}", Cur);
        _p++;
    }

    private static T At<T>(T node, Token tok) where T : Expr
    {
        node.Line = tok.Line;
        node.Column = tok.Column;
        return node;
    }

    private static T AtS<T>(T node, Token tok) where T : Stmt
    {
        node.Line = tok.Line;
        node.Column = tok.Column;
        return node;
    }

    // Each link of a left-deep chain (a + b + c, x|f|g, a.b.c) deepens the tree that evaluation recurses through.
    private void Link(ref int links, Token at)
    {
        links++;
        Enter(at);
    }

    private void Enter(Token at)
    {
        if (++_depth > MaxNesting) throw Error($"template nested deeper than {MaxNesting} levels", at);
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
    }

    // ---- statements ----

    private List<Stmt> ParseBody(string[] endTags)
    {
        var body = new List<Stmt>();
        Enter(Cur);
        while (true)
        {
            var tok = Cur;
            switch (tok.Kind)
            {
                case TokenKind.Data:
                    _p++;
                    body.Add(AtS(new DataStmt(tok.Text), tok));
                    break;
                case TokenKind.VarBegin:
                    _p++;
                    var e = ParseTuple(withCondExpr: true, explicitParens: false);
                    if (Cur.Kind != TokenKind.VarEnd) throw Error($"expected end of print statement, got {Cur}", Cur);
                    _p++;
                    body.Add(AtS(new OutputStmt(e), tok));
                    break;
                case TokenKind.BlockBegin:
                    var kw = Peek();
                    if (kw.Kind != TokenKind.Name) throw Error($"expected a statement name, got {kw}", kw);
                    if (Array.IndexOf(endTags, kw.Text) >= 0) { _depth--; return body; }
                    _p += 2;
                    body.Add(ParseStatement(kw, endTags));
                    break;
                case TokenKind.Eof:
                    if (endTags.Length > 0)
                        throw Error($"unexpected end of template; looking for the tags: {string.Join(", ", endTags.Select(t => $"'{t}'"))}", tok);
                    _depth--;
                    return body;
                default:
                    throw Error($"unexpected {tok}", tok);
            }
        }
    }

    private Stmt ParseStatement(Token kw, string[] outer)
    {
        switch (kw.Text)
        {
            case "if": return ParseIf(kw);
            case "for": return ParseFor(kw);
            case "set": return ParseSet(kw);
            case "macro": return ParseMacro(kw);
            case "call": return ParseCallBlock(kw);
            case "filter": return ParseFilterBlock(kw);
            case "generation":
                ExpectBlockEnd();
                var gs = Push();
                var gb = ParseBody(["endgeneration"]);
                Pop();
                EndTag("endgeneration");
                return AtS(new GenerationStmt(gb, gs.Info), kw);
            case "break" or "continue":
                ExpectBlockEnd();
                return AtS(new BreakStmt(kw.Text == "break"), kw);
            default:
                string hint = outer.Length > 0 ? $"; the innermost block that needs closing is '{outer[^1]}'" : "";
                throw Error($"encountered unknown tag '{kw.Text}'{hint}", kw);
        }
    }

    // Consumes {% name %} (the current tokens are BlockBegin, Name).
    private void EndTag(string name)
    {
        _p += 2;
        ExpectBlockEnd();
    }

    private string CurrentTag() => Peek().Text;

    private Stmt ParseIf(Token kw)
    {
        var storedBefore = new HashSet<string>(Current.Stores, StringComparer.Ordinal);
        var stmt = ParseIfCore(kw);
        // jinja2 merges branch scopes so that a name first assigned in a branch starts from the outer value.
        foreach (var n in Current.Stores) if (!storedBefore.Contains(n)) Current.LoadsFirst.Add(n);
        return stmt;
    }

    private Stmt ParseIfCore(Token kw)
    {
        var branches = new List<(Expr, List<Stmt>)>();
        List<Stmt>? otherwise = null;
        var cond = ParseTuple(withCondExpr: false, explicitParens: false);
        ExpectBlockEnd();
        while (true)
        {
            var body = ParseBody(["elif", "else", "endif"]);
            branches.Add((cond, body));
            string tag = CurrentTag();
            _p += 2;
            if (tag == "elif")
            {
                cond = ParseTuple(withCondExpr: false, explicitParens: false);
                ExpectBlockEnd();
                continue;
            }
            ExpectBlockEnd();
            if (tag == "else")
            {
                otherwise = ParseBody(["endif"]);
                EndTag("endif");
            }
            break;
        }
        return AtS(new IfStmt(branches, otherwise), kw);
    }

    private Target ParseTarget(bool allowNamespace)
    {
        var names = new List<string>();
        bool paren = Cur.IsOp("(");
        if (paren) _p++;
        var first = Cur;
        names.Add(ExpectName());
        if (allowNamespace && !paren && Cur.IsOp("."))
        {
            _p++;
            return new Target(names, ExpectName(), false);
        }
        bool tuple = false;
        while (Cur.IsOp(","))
        {
            tuple = true;
            _p++;
            if (Cur.Kind != TokenKind.Name || Cur.Text == "in") break;
            names.Add(ExpectName());
        }
        if (paren) ExpectOp(")");
        foreach (var n in names)
            if (n is "true" or "false" or "none" or "True" or "False" or "None") throw Error($"cannot assign to '{n}'", first);
        return new Target(names, null, tuple || paren && names.Count > 1);
    }

    private Stmt ParseFor(Token kw)
    {
        var target = ParseTarget(allowNamespace: false);
        if (!Cur.IsName("in")) throw Error($"expected 'in', got {Cur}", Cur);
        _p++;
        var iter = ParseTuple(withCondExpr: false, explicitParens: false, extraEnd: "recursive");
        var loopScope = Push();
        foreach (var n in target.Names) Param(loopScope, n);
        Expr? cond = null;
        if (Cur.IsName("if"))
        {
            _p++;
            cond = ParseTuple(withCondExpr: true, explicitParens: false, extraEnd: "recursive");
        }
        if (Cur.IsName("recursive")) throw Error("recursive for-loops are not supported", Cur);
        ExpectBlockEnd();
        var body = ParseBody(["endfor", "else"]);
        Pop();
        List<Stmt>? otherwise = null;
        ScopeInfo elseInfo = new();
        if (CurrentTag() == "else")
        {
            EndTag("else");
            elseInfo = Push().Info;
            otherwise = ParseBody(["endfor"]);
            Pop();
        }
        EndTag("endfor");
        return AtS(new ForStmt(target, iter, cond, body, otherwise, loopScope.Info, elseInfo), kw);
    }

    private Stmt ParseSet(Token kw)
    {
        var target = ParseTarget(allowNamespace: true);
        if (Cur.IsOp("="))
        {
            _p++;
            var value = ParseTuple(withCondExpr: true, explicitParens: false);
            ExpectBlockEnd();
            Store(target); // after the value: jinja2 visits the value first
            return AtS(new SetStmt(target, value), kw);
        }
        Store(target);
        var filters = new List<FilterExpr>();
        while (Cur.IsOp("|"))
        {
            _p++;
            filters.Add(ParseFilterTail(null));
        }
        ExpectBlockEnd();
        var setScope = Push();
        var body = ParseBody(["endset"]);
        Pop();
        EndTag("endset");
        return AtS(new SetBlockStmt(target, body, filters, setScope.Info), kw);
    }

    private List<(string, Expr?)> ParseParams()
    {
        var ps = new List<(string, Expr?)>();
        ExpectOp("(");
        while (!Cur.IsOp(")"))
        {
            if (ps.Count > 0) ExpectOp(",");
            if (Cur.IsOp(")")) break;
            var nameTok = Cur;
            var n = ExpectName();
            if (ps.Exists(p => p.Item1 == n)) throw Error($"duplicate argument '{n}' in macro definition", nameTok);
            Expr? d = null;
            if (Cur.IsOp("=")) { _p++; d = ParseExpression(true); }
            else if (ps.Count > 0 && ps[^1].Item2 is not null) throw Error("non-default argument follows default argument", Cur);
            ps.Add((n, d));
        }
        _p++;
        return ps;
    }

    private Stmt ParseMacro(Token kw)
    {
        var name = ExpectName();
        StoreName(name);
        var scope = Push();
        var ps = ParseParams();
        foreach (var (p, _) in ps) Param(scope, p);
        ExpectBlockEnd();
        var body = ParseBody(["endmacro"]);
        Pop();
        EndTag("endmacro");
        return AtS(new MacroStmt(name, ps, body, Shape(scope)), kw);
    }

    private static MacroShape Shape(Scope s) =>
        new(s.Info, s.AllLoads.Contains("kwargs"), s.AllLoads.Contains("varargs"), s.AllLoads.Contains("caller"));

    private Stmt ParseCallBlock(Token kw)
    {
        var scope = Push();
        var ps = Cur.IsOp("(") ? ParseParams() : [];
        foreach (var (p, _) in ps) Param(scope, p);
        Pop();
        var expr = ParseExpression(true);
        if (expr is not CallExpr call) throw Error("expected a call after 'call'", kw);
        ExpectBlockEnd();
        _scopes.Add(scope);
        var body = ParseBody(["endcall"]);
        Pop();
        EndTag("endcall");
        return AtS(new CallBlockStmt(call, ps, body, Shape(scope)), kw);
    }

    private Stmt ParseFilterBlock(Token kw)
    {
        var filters = new List<FilterExpr> { ParseFilterTail(null) };
        while (Cur.IsOp("|"))
        {
            _p++;
            filters.Add(ParseFilterTail(null));
        }
        ExpectBlockEnd();
        var scope = Push();
        var body = ParseBody(["endfilter"]);
        Pop();
        EndTag("endfilter");
        return AtS(new FilterBlockStmt(filters, body, scope.Info), kw);
    }

    // ---- expressions ----

    private bool IsTupleEnd(string? extraEnd) =>
        Cur.Kind is TokenKind.VarEnd or TokenKind.BlockEnd or TokenKind.Eof || Cur.IsOp(")") || (extraEnd is not null && Cur.IsName(extraEnd)) || Cur.IsName("in") && extraEnd == "in";

    private Expr ParseTuple(bool withCondExpr, bool explicitParens, string? extraEnd = null)
    {
        var start = Cur;
        var items = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0) ExpectOp(",");
            if (IsTupleEnd(extraEnd)) break;
            items.Add(ParseExpression(withCondExpr));
            if (Cur.IsOp(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count > 0) return items[0];
            if (!explicitParens) throw Error($"expected an expression, got {Cur}", Cur);
        }
        return At(new ListExpr(items, tuple: true), start);
    }

    private Expr ParseExpression(bool withCondExpr)
    {
        Enter(Cur);
        var e = withCondExpr ? ParseCondExpr() : ParseOr();
        _depth--;
        return e;
    }

    private Expr ParseCondExpr()
    {
        var start = Cur;
        var expr = ParseOr();
        int links = 0;
        while (Cur.IsName("if"))
        {
            Link(ref links, Cur);
            _p++;
            var test = ParseOr();
            Expr? otherwise = null;
            if (Cur.IsName("else")) { _p++; otherwise = ParseCondExpr(); }
            expr = At(new CondExpr(test, expr, otherwise), start);
        }
        _depth -= links;
        return expr;
    }

    private Expr ParseOr()
    {
        var start = Cur;
        var left = ParseAnd();
        int links = 0;
        while (Cur.IsName("or")) { Link(ref links, Cur); _p++; left = At(new OrExpr(left, ParseAnd()), start); }
        _depth -= links;
        return left;
    }

    private Expr ParseAnd()
    {
        var start = Cur;
        var left = ParseNot();
        int links = 0;
        while (Cur.IsName("and")) { Link(ref links, Cur); _p++; left = At(new AndExpr(left, ParseNot()), start); }
        _depth -= links;
        return left;
    }

    private Expr ParseNot()
    {
        var start = Cur;
        if (Cur.IsName("not"))
        {
            _p++;
            Enter(start);
            var e = At(new NotExpr(ParseNot()), start);
            _depth--;
            return e;
        }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var start = Cur;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Cur.Kind == TokenKind.Op && Cur.Text is "==" or "!=" or "<" or "<=" or ">" or ">=")
            {
                var op = Next().Text;
                rest.Add((op, ParseMath1()));
            }
            else if (Cur.IsName("in")) { _p++; rest.Add(("in", ParseMath1())); }
            else if (Cur.IsName("not") && Peek().IsName("in")) { _p += 2; rest.Add(("not in", ParseMath1())); }
            else break;
        }
        return rest.Count == 0 ? first : At(new CompareExpr(first, rest), start);
    }

    private Expr ParseMath1()
    {
        var start = Cur;
        var left = ParseConcat();
        int links = 0;
        while (Cur.Kind == TokenKind.Op && Cur.Text is "+" or "-")
        {
            Link(ref links, Cur);
            var op = Next().Text == "+" ? BinOp.Add : BinOp.Sub;
            left = At(new BinaryExpr(op, left, ParseConcat()), start);
        }
        _depth -= links;
        return left;
    }

    private Expr ParseConcat()
    {
        var start = Cur;
        var left = ParseMath2();
        int links = 0;
        while (Cur.IsOp("~")) { Link(ref links, Cur); _p++; left = At(new BinaryExpr(BinOp.Concat, left, ParseMath2()), start); }
        _depth -= links;
        return left;
    }

    private Expr ParseMath2()
    {
        var start = Cur;
        var left = ParsePow();
        int links = 0;
        while (Cur.Kind == TokenKind.Op && Cur.Text is "*" or "/" or "//" or "%")
        {
            Link(ref links, Cur);
            var op = Next().Text switch { "*" => BinOp.Mul, "/" => BinOp.Div, "//" => BinOp.FloorDiv, _ => BinOp.Mod };
            left = At(new BinaryExpr(op, left, ParsePow()), start);
        }
        _depth -= links;
        return left;
    }

    private Expr ParsePow()
    {
        var start = Cur;
        var left = ParseUnary(true);
        int links = 0;
        while (Cur.IsOp("**")) { Link(ref links, Cur); _p++; left = At(new BinaryExpr(BinOp.Pow, left, ParseUnary(true)), start); }
        _depth -= links;
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        var start = Cur;
        Enter(start);
        Expr node;
        if (Cur.IsOp("-")) { _p++; node = At(new UnaryExpr(true, ParseUnary(false)), start); }
        else if (Cur.IsOp("+")) { _p++; node = At(new UnaryExpr(false, ParseUnary(false)), start); }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        if (withFilter) node = ParseFilterExpr(node);
        _depth--;
        return node;
    }

    private Expr ParsePrimary()
    {
        var tok = Cur;
        switch (tok.Kind)
        {
            case TokenKind.Name:
                _p++;
                return tok.Text switch
                {
                    "true" or "True" => At(new ConstExpr(Box.True), tok),
                    "false" or "False" => At(new ConstExpr(Box.False), tok),
                    "none" or "None" => At(new ConstExpr(null), tok),
                    _ => LoadName(tok),
                };
            case TokenKind.String:
                _p++;
                string s = (string)tok.Value!;
                while (Cur.Kind == TokenKind.String) s += (string)Next().Value!;
                return At(new ConstExpr(s), tok);
            case TokenKind.Int or TokenKind.Float:
                _p++;
                return At(new ConstExpr(tok.Value), tok);
            case TokenKind.Op when tok.Text == "(":
                _p++;
                var inner = ParseTuple(withCondExpr: true, explicitParens: true);
                ExpectOp(")");
                return inner;
            case TokenKind.Op when tok.Text == "[":
                _p++;
                var items = new List<Expr>();
                while (!Cur.IsOp("]"))
                {
                    if (items.Count > 0) ExpectOp(",");
                    if (Cur.IsOp("]")) break;
                    items.Add(ParseExpression(true));
                }
                _p++;
                return At(new ListExpr(items, tuple: false), tok);
            case TokenKind.Op when tok.Text == "{":
                _p++;
                var pairs = new List<(Expr, Expr)>();
                while (!Cur.IsOp("}"))
                {
                    if (pairs.Count > 0) ExpectOp(",");
                    if (Cur.IsOp("}")) break;
                    var k = ParseExpression(true);
                    ExpectOp(":");
                    pairs.Add((k, ParseExpression(true)));
                }
                _p++;
                return At(new DictExpr(pairs), tok);
            default:
                throw Error($"unexpected {tok}", tok);
        }
    }

    private Expr LoadName(Token tok)
    {
        Load(tok.Text);
        return At(new NameExpr(tok.Text), tok);
    }

    private Expr ParsePostfix(Expr node)
    {
        int links = 0;
        while (true)
        {
            var tok = Cur;
            if (tok.IsOp(".") || tok.IsOp("[") || tok.IsOp("(")) Link(ref links, tok);
            if (tok.IsOp("."))
            {
                _p++;
                var n = Cur;
                if (n.Kind == TokenKind.Name) { _p++; node = At(new GetAttrExpr(node, n.Text), tok); }
                else if (n.Kind == TokenKind.Int) { _p++; node = At(new GetItemExpr(node, At(new ConstExpr(n.Value), n)), tok); }
                else throw Error($"expected a name after '.', got {n}", n);
            }
            else if (tok.IsOp("[")) { _p++; node = ParseSubscript(node, tok); }
            else if (tok.IsOp("(")) { _p++; node = At(new CallExpr(node, ParseCallArgs()), tok); }
            else { _depth -= links; return node; }
        }
    }

    private Expr ParseSubscript(Expr node, Token tok)
    {
        var parts = new List<Expr>();
        bool tuple = false;
        while (!Cur.IsOp("]"))
        {
            if (parts.Count > 0) { ExpectOp(","); tuple = true; if (Cur.IsOp("]")) break; }
            parts.Add(ParseSubscribed(node, tok, out bool isSlice));
            if (isSlice && !Cur.IsOp(",")) { ExpectOp("]"); return parts[0]; }
        }
        _p++;
        if (parts.Count == 0) throw Error("expected a subscript", tok);
        Expr key = parts.Count == 1 && !tuple ? parts[0] : At(new ListExpr(parts, tuple: true), tok);
        return At(new GetItemExpr(node, key), tok);
    }

    private Expr ParseSubscribed(Expr node, Token tok, out bool isSlice)
    {
        isSlice = false;
        Expr? start = null;
        if (!Cur.IsOp(":"))
        {
            start = ParseExpression(true);
            if (!Cur.IsOp(":")) return start;
        }
        isSlice = true;
        _p++;
        Expr? stop = null, step = null;
        if (!Cur.IsOp("]") && !Cur.IsOp(",") && !Cur.IsOp(":")) stop = ParseExpression(true);
        if (Cur.IsOp(":"))
        {
            _p++;
            if (!Cur.IsOp("]") && !Cur.IsOp(",")) step = ParseExpression(true);
        }
        return At(new SliceExpr(node, start, stop, step), tok);
    }

    private ArgList ParseCallArgs()
    {
        var pos = new List<Expr>();
        var kws = new List<(string, Expr)>();
        Expr? star = null, dstar = null;
        bool first = true;
        while (!Cur.IsOp(")"))
        {
            if (!first) { ExpectOp(","); if (Cur.IsOp(")")) break; }
            first = false;
            if (Cur.IsOp("*")) { _p++; star = ParseExpression(true); }
            else if (Cur.IsOp("**")) { _p++; dstar = ParseExpression(true); }
            else if (Cur.Kind == TokenKind.Name && Peek().IsOp("="))
            {
                var n = Next().Text;
                _p++;
                kws.Add((n, ParseExpression(true)));
            }
            else
            {
                if (kws.Count > 0) throw Error("positional argument follows keyword argument", Cur);
                pos.Add(ParseExpression(true));
            }
        }
        _p++;
        return new ArgList(pos, kws, star, dstar);
    }

    private string ParseDottedName()
    {
        var n = ExpectName();
        while (Cur.IsOp(".") && Peek().Kind == TokenKind.Name) { _p++; n += "." + Next().Text; }
        return n;
    }

    private FilterExpr ParseFilterTail(Expr? value)
    {
        var tok = Cur;
        var name = ParseDottedName();
        var args = ArgList.Empty;
        if (Cur.IsOp("(")) { _p++; args = ParseCallArgs(); }
        return At(new FilterExpr(value, name, args) { Fn = Filters.Find(name) ?? MissingFilter(name) }, tok);
    }

    private static Filters.Fn MissingFilter(string name) => (_, _, _, _) => throw new PyError($"TemplateAssertionError: No filter named '{name}'.");

    private static Tests.Fn MissingTest(string name) => (_, _, _, _) => throw new PyError($"TemplateAssertionError: No test named '{name}'.");

    private Expr ParseFilterExpr(Expr node)
    {
        int links = 0;
        while (true)
        {
            var tok = Cur;
            if (tok.IsOp("|") || tok.IsName("is") || tok.IsOp("(")) Link(ref links, tok);
            if (tok.IsOp("|")) { _p++; node = ParseFilterTail(node); }
            else if (tok.IsName("is"))
            {
                _p++;
                bool negated = false;
                if (Cur.IsName("not")) { _p++; negated = true; }
                var nameTok = Cur;
                var name = ParseDottedName();
                var args = ArgList.Empty;
                if (Cur.IsOp("(")) { _p++; args = ParseCallArgs(); }
                else if ((Cur.Kind is TokenKind.Name or TokenKind.String or TokenKind.Int or TokenKind.Float || Cur.IsOp("(") || Cur.IsOp("[") || Cur.IsOp("{"))
                         && !(Cur.Kind == TokenKind.Name && Cur.Text is "else" or "or" or "and"))
                {
                    if (Cur.IsName("is")) throw Error("you cannot chain multiple tests with 'is'", Cur);
                    var arg = ParsePostfix(ParsePrimary());
                    args = new ArgList([arg], [], null, null);
                }
                node = At(new TestExpr(node, name, args, negated) { Fn = Tests.Find(name) ?? MissingTest(name) }, nameTok);
            }
            else if (tok.IsOp("(")) { _p++; node = At(new CallExpr(node, ParseCallArgs()), tok); }
            else { _depth -= links; return node; }
        }
    }
}
