using System.Text.Json;
using SharpTune.Tests.Support;
using SharpTune.Text.Jinja;

namespace SharpTune.Tests.Jinja;

/// <summary>
/// The general Jinja cases in tests/data/jinja/general-cases.jsonl (loops, filters, tests, whitespace control,
/// arithmetic, slicing, printing Python values, namespaces, macros, errors), rendered by SharpTune and by jinja2;
/// every render must be byte-identical and every case that raises in jinja2 must raise a JinjaException here.
/// </summary>
public class JinjaGeneralOracleTests
{
    private static readonly string CasesPath = Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "jinja", "general-cases.jsonl");

    private static readonly Lazy<string[]> Lines = new(() => File.ReadAllLines(CasesPath).Where(l => l.Trim().Length > 0).ToArray());

    private static readonly Lazy<IReadOnlyList<JinjaOracle.Result>> Expected = new(() => JinjaOracle.Render(Lines.Value));

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var line in File.ReadAllLines(CasesPath).Where(l => l.Trim().Length > 0))
            data.Add(JsonDocument.Parse(line).RootElement.GetProperty("name").GetString()!);
        return data;
    }

    [Fact]
    public void ThereAreAtLeastSixtyCases() => Assert.True(Lines.Value.Length >= 60, $"only {Lines.Value.Length} general cases");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesJinja2(string name)
    {
        TestEnvironment.RequireOracle(JinjaOracle.Available, "/usr/bin/python3 with jinja2");
        int index = Array.FindIndex(Lines.Value, l => JsonDocument.Parse(l).RootElement.GetProperty("name").GetString() == name);
        using var doc = JsonDocument.Parse(Lines.Value[index]);
        var root = doc.RootElement;
        var expected = Expected.Value[index];
        string? actual = null;
        JinjaException? error = null;
        try
        {
            var template = JinjaTemplate.Compile(root.GetProperty("template").GetString()!, name);
            var vars = new Dictionary<string, object?>();
            if (root.TryGetProperty("vars", out var v))
                foreach (var p in v.EnumerateObject()) vars[p.Name] = p.Value.Clone();
            actual = template.Render(vars);
        }
        catch (JinjaException e) { error = e; }
        if (expected.Error is not null)
        {
            Assert.True(error is not null, $"jinja2 raised '{expected.Error}' but SharpTune rendered {JsonSerializer.Serialize(actual)}");
            if (expected.Error.StartsWith("TemplateError: ", StringComparison.Ordinal))
                Assert.Equal(expected.Error["TemplateError: ".Length..], Assert.IsType<JinjaRaisedException>(error).Detail);
            return;
        }
        Assert.True(error is null, $"SharpTune raised '{error?.Message}' but jinja2 rendered {JsonSerializer.Serialize(expected.Text)}");
        Assert.True(expected.Text == actual, JinjaOracle.Diff(expected.Text!, actual!));
    }
}
