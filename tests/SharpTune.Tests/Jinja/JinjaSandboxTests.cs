using SharpTune.Text.Jinja;

namespace SharpTune.Tests.Jinja;

/// <summary>The sandbox: limits raise typed errors, nothing outside the whitelisted values is reachable, errors carry positions.</summary>
public class JinjaSandboxTests
{
    private static string Render(string src, SandboxLimits? limits = null, Dictionary<string, object?>? vars = null) =>
        JinjaTemplate.Compile(src, "t", limits).Render(vars ?? []);

    [Fact]
    public void LoopIterationLimit()
    {
        var e = Assert.Throws<JinjaLimitException>(() => Render("{% for i in range(100) %}{% for j in range(100) %}x{% endfor %}{% endfor %}", new SandboxLimits { MaxLoopIterations = 5000 }));
        Assert.Contains("loop iterations", e.Message);
        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void RecursionDepthLimit()
    {
        var e = Assert.Throws<JinjaLimitException>(() => Render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));
        Assert.Contains("nested deeper", e.Message);
    }

    [Fact]
    public void OutputSizeLimit()
    {
        Assert.Throws<JinjaLimitException>(() => Render("{% for i in range(1000) %}{{ 'x' * 1000 }}{% endfor %}", new SandboxLimits { MaxOutputChars = 100_000 }));
        Assert.Throws<JinjaLimitException>(() => Render("{{ 'x' * 1000000000 }}"));
    }

    [Fact]
    public void TimeLimit()
    {
        var e = Assert.Throws<JinjaLimitException>(() => Render(
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            new SandboxLimits { Timeout = TimeSpan.FromMilliseconds(50), MaxLoopIterations = int.MaxValue }));
        Assert.Contains("longer than", e.Message);
    }

    [Fact]
    public void RangeIsBounded() => Assert.Throws<JinjaLimitException>(() => Render("{{ range(1000000) | length }}"));

    [Theory]
    [InlineData("{{ ''.__class__ }}")]
    [InlineData("{{ ''.__class__.__mro__ }}")]
    [InlineData("{{ messages.__init__ }}")]
    [InlineData("{{ range.__globals__ }}")]
    [InlineData("{{ cycler }}{{ joiner }}{{ lipsum }}{{ self }}{{ config }}{{ request }}{{ os }}")]
    [InlineData("{{ ''.GetType() }}")]
    public void NoReflectionOrHostAccess(string src)
    {
        // Unknown attributes are undefined (print empty) and calling them is an error: nothing leaks.
        try { Assert.Equal("", Render(src, vars: new() { ["messages"] = new List<object?>() })); }
        catch (JinjaRuntimeException) { }
    }

    [Fact]
    public void MutatingMethodsAreSecurityErrors()
    {
        var e = Assert.Throws<JinjaRuntimeException>(() => Render("{% set l = [1] %}{{ l.append(2) }}"));
        Assert.Contains("unsafe", e.Message);
    }

    [Fact]
    public void ClrObjectsCannotBePassedIn() =>
        Assert.Throws<ArgumentException>(() => JinjaTemplate.Compile("{{ x }}").Render(new Dictionary<string, object?> { ["x"] = new System.IO.MemoryStream() }));

    [Fact]
    public void SyntaxErrorsNameLineAndColumn()
    {
        var e = Assert.Throws<JinjaSyntaxException>(() => JinjaTemplate.Compile("line one\n  {{ 1 + }}", "my.jinja"));
        Assert.Equal(2, e.Line);
        Assert.StartsWith("my.jinja:2:", e.Message);
        Assert.IsAssignableFrom<UserException>(e);
    }

    [Fact]
    public void RuntimeErrorsNameLineAndColumn()
    {
        var e = Assert.Throws<JinjaRuntimeException>(() => Render("ok\nok\n{% for m in xs %}{{ m.a.b }}{% endfor %}", vars: new() { ["xs"] = new List<object?> { new Dictionary<string, object?>() } }));
        Assert.Equal(3, e.Line);
        Assert.Equal(24, e.Column); // the ".b" access
        Assert.Contains("UndefinedError", e.Message);
    }

    [Fact]
    public void RaiseExceptionCarriesTheTemplateMessage()
    {
        var e = Assert.Throws<JinjaRaisedException>(() => Render("x\n{{ raise_exception('roles must alternate') }}"));
        Assert.Equal("roles must alternate", e.Detail);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void DeeplyNestedSourceIsASyntaxErrorNotACrash()
    {
        Assert.Throws<JinjaSyntaxException>(() => JinjaTemplate.Compile("{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}"));
        Assert.Throws<JinjaSyntaxException>(() => JinjaTemplate.Compile(string.Concat(Enumerable.Repeat("{% if true %}", 5000))));
        // Long left-deep chains build deep trees too: bounded at compile time, so evaluation cannot overflow the stack.
        foreach (var link in new[] { " + 1", " ~ 'a'", " and x", " or x", " * 1", "|trim", ".a", "[0]", " is defined", " if x else 1" })
            Assert.Throws<JinjaSyntaxException>(() => JinjaTemplate.Compile("{{ x" + string.Concat(Enumerable.Repeat(link, 100_000)) + " }}"));
        Assert.Equal("51", Render("{{ 1" + string.Concat(Enumerable.Repeat(" + 1", 50)) + " }}"));
    }

    [Fact]
    public void CompiledTemplateRendersConcurrently()
    {
        var t = JinjaTemplate.Compile("{% set ns = namespace(s=0) %}{% for i in xs %}{% set ns.s = ns.s + i %}{% endfor %}{{ ns.s }}");
        var results = new string[64];
        Parallel.For(0, results.Length, i => results[i] = t.Render(new Dictionary<string, object?> { ["xs"] = Enumerable.Range(0, i).ToList() }));
        for (int i = 0; i < results.Length; i++) Assert.Equal((i * (i - 1) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture), results[i]);
    }
}
