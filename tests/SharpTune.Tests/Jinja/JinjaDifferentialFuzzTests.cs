using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.Tests.Support;
using SharpTune.Text.Jinja;

namespace SharpTune.Tests.Jinja;

/// <summary>
/// Seeded differential fuzzing against jinja2: random expressions over literals, variables, operators, filters, tests
/// and string methods; and random data interleaved with if/for/set/raw/comment tags carrying random whitespace-control
/// modifiers. Each must give the identical text, or both must raise. The one allowed difference is 64-bit integer
/// overflow (Python's ints are unbounded), which SharpTune reports as an error.
/// </summary>
public class JinjaDifferentialFuzzTests
{
    private static readonly string[] Literals =
    [
        "0", "1", "2", "3", "7", "-3", "10", "0.5", "-1.5", "2.0", "1e3", "''", "'a'", "' Ab c '", "'héllo'", "'x,y'", "'10'", "'2.5'",
        "true", "false", "none", "[]", "[1, 2]", "['b', 'a']", "(1, 'x')", "{'k': 1}",
    ];

    private static readonly string[] Vars = ["xs", "s", "d", "n", "f", "i", "e", "u", "m", "missing"];

    private static readonly string[] Ops = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", "<=", ">", ">=", "and", "or", "in", "not in"];

    private static readonly string[] Filters =
    [
        "length", "upper", "lower", "trim", "first", "last", "list", "sort", "reverse | list", "join(',')", "default('z')", "int",
        "float", "abs", "string", "tojson", "unique | list", "capitalize", "title", "round", "count", "items | list", "dictsort",
        "select('odd') | list", "map('string') | list", "indent(2)", "trim('a')", "replace('a', 'o')", "d('q', true)", "sum",
        "min", "max", "tojson(indent=1)", "wordcount", "join", "selectattr('k') | list", "map(attribute='k') | list",
    ];

    private static readonly string[] Tests =
    [
        "defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence", "odd", "even",
        "divisibleby(2)", "in(xs)", "lower", "upper", "boolean", "true", "false", "eq(1)", "callable", "not none", "not defined",
    ];

    private static readonly string[] Methods =
    [
        "strip()", "split(',')", "upper()", "replace('l', 'L')", "startswith('H')", "find('o')", "count('l')", "title()",
        "lstrip(' H')", "rstrip()", "split()", "endswith(('d', ' '))", "capitalize()", "get('k')", "items()", "keys()", "format(1)",
        "split(' ', 1)", "strip('ab ')", "join(['1', '2'])",
    ];

    private static string Expr(Random r, int depth)
    {
        if (depth <= 0 || r.Next(4) == 0)
            return r.Next(3) == 0 ? Vars[r.Next(Vars.Length)] : Literals[r.Next(Literals.Length)];
        return r.Next(11) switch
        {
            0 or 1 => $"({Expr(r, depth - 1)} {Ops[r.Next(Ops.Length)]} {Expr(r, depth - 1)})",
            2 or 3 => $"({Expr(r, depth - 1)} | {Filters[r.Next(Filters.Length)]})",
            4 => $"({Expr(r, depth - 1)} is {Tests[r.Next(Tests.Length)]})",
            5 => $"{Expr(r, depth - 1)}[{r.Next(-3, 3)}]",
            // Slices of variables only: jinja2 constant-folds slices of literals through a different path.
            6 => $"{Vars[r.Next(Vars.Length)]}[{Slice(r)}]",
            7 => $"({Expr(r, depth - 1)} if {Expr(r, depth - 1)} else {Expr(r, depth - 1)})",
            8 => $"(not {Expr(r, depth - 1)})",
            9 => $"[{Expr(r, depth - 1)}, {Expr(r, depth - 1)}]",
            _ => $"{Expr(r, depth - 1)}.{Methods[r.Next(Methods.Length)]}",
        };
    }

    private static string Slice(Random r)
    {
        string B() => r.Next(3) == 0 ? "" : r.Next(-4, 5).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return r.Next(2) == 0 ? $"{B()}:{B()}" : $"{B()}:{B()}:{(r.Next(2) == 0 ? "-1" : r.Next(1, 3).ToString(System.Globalization.CultureInfo.InvariantCulture))}";
    }

    private static readonly JsonObject VarValues = JsonNode.Parse("""
        {"xs": [3, 1, 2], "s": " Hello World ", "d": {"a": 1, "b": [1, 2], "k": "v"}, "n": null, "f": 2.5, "i": 7, "e": [],
         "u": "Ünïcode 日本 😀", "m": [{"k": 2}, {"k": 0}, {"j": 1}]}
        """)!.AsObject();

    private static List<string> Templates()
    {
        var r = new Random(424242);
        var list = new List<string>();
        for (int k = 0; k < 1500; k++)
        {
            var e = Expr(r, r.Next(1, 4));
            list.Add(r.Next(5) == 0 ? $"{{% for x in {e} %}}{{{{ x }}}},{{% else %}}-{{% endfor %}}" : $"{{{{ {e} }}}}");
        }
        return list;
    }

    private static readonly string[] Data = ["", " ", "  ", "\n", "\t", "a", "b\n", " \n ", "\n\n", "\r\n", "x y", "\n  ", "  \n"];

    private static string Open(Random r) => r.Next(4) switch { 0 => "{%-", 1 => "{%+", _ => "{%" };

    private static string Close(Random r) => r.Next(4) switch { 0 => "-%}", 1 => "+%}", _ => "%}" };

    // Random data interleaved with balanced statements, all with random whitespace-control modifiers.
    private static string Block(Random r, int depth)
    {
        var sb = new StringBuilder();
        int n = r.Next(1, 6);
        for (int k = 0; k < n; k++)
        {
            sb.Append(Data[r.Next(Data.Length)]);
            switch (depth <= 0 ? r.Next(4) : r.Next(9))
            {
                case 0: sb.Append(r.Next(3) switch { 0 => "{{- ", 1 => "{{ ", _ => "{{" }).Append(Vars[r.Next(4)]).Append(r.Next(2) == 0 ? " -}}" : " }}"); break;
                case 1: sb.Append(r.Next(3) switch { 0 => "{#- c -#}", 1 => "{# c #}", _ => "{#+ c #}" }); break;
                case 2: sb.Append(Open(r)).Append(" set y = 1 ").Append(Close(r)); break;
                case 3: break;
                case 4 or 5:
                    sb.Append(Open(r)).Append(" if ").Append(r.Next(2) == 0 ? "true" : "false").Append(' ').Append(Close(r)).Append(Block(r, depth - 1));
                    if (r.Next(2) == 0) sb.Append(Open(r)).Append(" else ").Append(Close(r)).Append(Block(r, depth - 1));
                    sb.Append(Open(r)).Append(" endif ").Append(Close(r));
                    break;
                case 6 or 7:
                    sb.Append(Open(r)).Append(" for z in [1, 2] ").Append(Close(r)).Append(Block(r, depth - 1)).Append(Open(r)).Append(" endfor ").Append(Close(r));
                    break;
                default:
                    sb.Append(Open(r)).Append(" raw ").Append(r.Next(2) == 0 ? "-%}" : "%}").Append(Data[r.Next(Data.Length)]).Append("{{ raw }}").Append(Data[r.Next(Data.Length)])
                        .Append(Open(r)).Append(" endraw ").Append(Close(r));
                    break;
            }
            sb.Append(Data[r.Next(Data.Length)]);
        }
        return sb.ToString();
    }

    [Fact]
    public void RandomWhitespaceControlMatchesJinja2()
    {
        TestEnvironment.RequireOracle(JinjaOracle.Available, "/usr/bin/python3 with jinja2");
        var r = new Random(99);
        var templates = Enumerable.Range(0, 1500).Select(_ => Block(r, 2)).ToList();
        Compare(templates);
    }

    private static readonly string[] Names = ["a", "b", "x", "m", "xs"];

    private static readonly string[] Values =
    [
        "1", "a ~ 'z'", "b", "x", "loop.index", "loop.first", "loop.previtem", "ns.n", "ns.n + 1", "xs | length", "[1, 2]", "'s'",
        "m.content", "m.role", "a if a is defined else 0", "caller() if caller is defined else 'c'", "varargs", "kwargs",
    ];

    // Random programs of set / namespace / for (with loop variables) / if / macro / call statements: scoping checks.
    private static string Program(Random r, int depth)
    {
        var sb = new StringBuilder();
        int n = r.Next(1, 5);
        for (int k = 0; k < n; k++)
        {
            string name = Names[r.Next(Names.Length)], value = Values[r.Next(Values.Length)];
            switch (depth <= 0 ? r.Next(4) : r.Next(10))
            {
                case 0: sb.Append($"{{% set {name} = {value} %}}"); break;
                case 1: sb.Append($"[{{{{ {value} }}}}]"); break;
                case 2: sb.Append($"{{% set ns.n = {value} %}}"); break;
                case 3: sb.Append($"({{{{ {name} }}}})"); break;
                case 4 or 5:
                    sb.Append($"{{% for {name} in {(r.Next(2) == 0 ? "xs" : "[3, 4]")}{(r.Next(3) == 0 ? " if " + name + " != 2" : "")} %}}").Append(Program(r, depth - 1));
                    if (r.Next(3) == 0) sb.Append("{% else %}E");
                    sb.Append("{% endfor %}");
                    break;
                case 6:
                    sb.Append($"{{% if {value} %}}").Append(Program(r, depth - 1)).Append("{% else %}").Append(Program(r, depth - 1)).Append("{% endif %}");
                    break;
                case 7:
                    sb.Append($"{{% macro f{k}({name}, b=2) %}}").Append(Program(r, depth - 1)).Append("{% endmacro %}")
                        .Append($"{{{{ f{k}({value}) }}}}{{{{ f{k}(1, 3, 4, q=5) }}}}");
                    break;
                case 8:
                    sb.Append($"{{% macro g{k}() %}}<{{{{ caller() }}}}>{{% endmacro %}}{{% call g{k}() %}}").Append(Program(r, depth - 1)).Append("{% endcall %}");
                    break;
                default:
                    sb.Append($"{{% set {name} %}}").Append(Program(r, depth - 1)).Append($"{{% endset %}}{{{{ {name} }}}}");
                    break;
            }
        }
        return sb.ToString();
    }

    [Fact]
    public void RandomScopingProgramsMatchJinja2()
    {
        TestEnvironment.RequireOracle(JinjaOracle.Available, "/usr/bin/python3 with jinja2");
        var r = new Random(31337);
        Compare(Enumerable.Range(0, 1500).Select(_ => "{% set ns = namespace(n=0) %}" + Program(r, 3) + "|{{ ns.n }}").ToList());
    }

    [Fact]
    public void RandomExpressionsMatchJinja2()
    {
        TestEnvironment.RequireOracle(JinjaOracle.Available, "/usr/bin/python3 with jinja2");
        Compare(Templates());
    }

    private static void Compare(List<string> templates)
    {
        var lines = templates.Select(t => new JsonObject { ["template"] = t, ["vars"] = VarValues.DeepClone() }.ToJsonString()).ToList();
        var expected = JinjaOracle.Render(lines);
        var vars = new Dictionary<string, object?>();
        foreach (var (k, v) in VarValues) vars[k] = JsonDocument.Parse(v?.ToJsonString() ?? "null").RootElement.Clone();
        var failures = new StringBuilder();
        int mismatches = 0, bothRaised = 0;
        for (int k = 0; k < templates.Count; k++)
        {
            string? actual = null;
            JinjaException? error = null;
            try { actual = JinjaTemplate.Compile(templates[k]).Render(vars); }
            catch (JinjaException ex) { error = ex; }
            var want = expected[k];
            bool ok = want.Error is not null
                ? error is not null
                : error is null ? want.Text == actual : error.Message.Contains("OverflowError", StringComparison.Ordinal);
            if (want.Error is not null && error is not null) bothRaised++;
            if (ok) continue;
            if (++mismatches <= 15)
                failures.Append($"{templates[k]}\n  jinja2: {want.Text ?? want.Error}\n  ours:   {actual ?? error?.Message}\n");
        }
        Assert.True(mismatches == 0, $"{mismatches} of {templates.Count} differ ({bothRaised} raised in both):\n{failures}");
    }
}
