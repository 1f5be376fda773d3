using System.Reflection;
using SharpTune.Preprocessing;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Preprocessing;

/// <summary>The cache key covers the options records as a whole, so an option added later cannot reuse a stale entry.</summary>
public class PreprocessCacheKeyTests
{
    /// <summary>PreprocessOptions as a later version might have it: one more option, nothing else changed.</summary>
    private sealed record OptionsWithANewKnob : PreprocessOptions
    {
        public int NewKnob { get; init; }
    }

    private static string Key(string data, PreprocessOptions options)
    {
        using var tmp = TestEnvironment.TempDir();
        return PreprocessPipeline.Run(new PreprocessInputs
        {
            DataPath = data, TokenizerJson = "{}"u8.ToArray(), TokenizerConfigJson = [], TemplateText = "t",
            Renderer = new FakeChatMl(), Tokenizer = new FakeCharTokenizer(), Options = options,
        }, new PreprocessCache(tmp.File("cache")), rebuild: false).Key;
    }

    [Fact]
    public void AnAddedOptionChangesTheKey()
    {
        using var tmp = TestEnvironment.TempDir();
        var data = tmp.File("d.jsonl");
        File.WriteAllText(data, "{\"instruction\": \"Q\", \"input\": \"\", \"output\": \"Yes\"}\n");
        var baseKey = Key(data, new PreprocessOptions());
        Assert.Equal(baseKey, Key(data, new PreprocessOptions()));
        var withKnob = Key(data, new OptionsWithANewKnob());
        Assert.NotEqual(baseKey, withKnob);
        Assert.NotEqual(withKnob, Key(data, new OptionsWithANewKnob { NewKnob = 1 }));
        Assert.Contains("\"new_knob\":1", PreprocessPipeline.CanonicalOptions(new OptionsWithANewKnob { NewKnob = 1 }, null));
    }

    [Fact]
    public void EveryPropertyOfTheOptionsAndPromptSettingsIsInTheKey()
    {
        var baseline = PreprocessPipeline.CanonicalOptions(new PreprocessOptions(), null);
        var seen = new List<string>();
        foreach (var p in typeof(PreprocessOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != "EqualityContract"))
        {
            if (p.PropertyType == typeof(PromptSettings)) continue;
            var o = new PreprocessOptions() with { };
            p.SetValue(o, Different(p.GetValue(o), p.PropertyType));
            // The one wording-only property: how an error names the switch; it changes no token, so not the key.
            if (p.Name == nameof(PreprocessOptions.AllowRenderMismatchHint))
            {
                Assert.Equal(baseline, PreprocessPipeline.CanonicalOptions(o, null));
                continue;
            }
            Assert.NotEqual(baseline, PreprocessPipeline.CanonicalOptions(o, null));
            seen.Add(p.Name);
        }
        foreach (var p in typeof(PromptSettings).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != "EqualityContract"))
        {
            var s = new PromptSettings() with { };
            p.SetValue(s, Different(p.GetValue(s), p.PropertyType));
            Assert.NotEqual(baseline, PreprocessPipeline.CanonicalOptions(new PreprocessOptions { Prompt = s }, null));
            seen.Add(p.Name);
        }
        Assert.Equal(5 + 7, seen.Count);
    }

    [Fact]
    public void KwargOrderDoesNotChangeTheKey()
    {
        var a = new PromptSettings { TemplateKwargs = new Dictionary<string, object?> { ["a"] = 1, ["b"] = true } };
        var b = new PromptSettings { TemplateKwargs = new Dictionary<string, object?> { ["b"] = true, ["a"] = 1 } };
        Assert.Equal(PreprocessPipeline.CanonicalOptions(new PreprocessOptions { Prompt = a }, null), PreprocessPipeline.CanonicalOptions(new PreprocessOptions { Prompt = b }, null));
    }

    private static object? Different(object? value, Type type) => value switch
    {
        bool b => !b,
        int i => i + 1,
        Enum e => Enum.GetValues(type).Cast<object>().First(v => !v.Equals(e)),
        string s => s + "x",
        null when type == typeof(string) => "x",
        IReadOnlyDictionary<string, object?> => new Dictionary<string, object?> { ["k"] = 1 },
        _ => throw new InvalidOperationException($"no variation for {type}: extend the test for the new option's type"),
    };
}
