using System.Text.Json;
using SharpTune.Preprocessing;

namespace SharpTune.Tests.Preprocessing;

public class PreprocessSettingsBinderTests
{
    private static PreprocessOptions Bind(params (string Key, string Value)[] values) =>
        PreprocessSettingsBinder.Bind(values.ToDictionary(v => v.Key, v => (string?)v.Value), "train.yaml");

    [Fact]
    public void AbsentKeysKeepTheDefaults()
    {
        Assert.Equal(CanonicalOf(new PreprocessOptions()), CanonicalOf(Bind()));
    }

    [Fact]
    public void EveryKeyMapsToItsOption()
    {
        var o = Bind(("template", "qwen3"), ("default_system", "Sys"), ("think_block", "answer"), ("template_kwargs", "{\"a\": \"b\", \"n\": 2, \"t\": true}"),
            ("train_on_eot", "False"), ("completion_eos", "false"), ("cutoff_len", "300"), ("truncation", "history"), ("train_on_prompt", "True"),
            ("mask_history", "true"), ("allow_render_mismatch", "true"));
        var p = o.Prompt;
        Assert.Equal(("qwen3", "Sys", ThinkBlockPlacement.Answer, false, false), (p.Template, p.DefaultSystem, p.ThinkBlock, p.TrainOnEot, p.CompletionEos));
        Assert.Equal("b", p.TemplateKwargs["a"]);
        Assert.Equal(2, ((JsonElement)p.TemplateKwargs["n"]!).GetInt32());
        Assert.True(p.TemplateKwargs["t"] is true);
        Assert.Equal((300, TruncationMode.History, true, true, true), (o.CutoffLen, o.Truncation, o.TrainOnPrompt, o.MaskHistory, o.AllowRenderMismatch));
        Assert.Null(p.TemplateSource);
    }

    [Fact]
    public void EnableThinkingIsLlamaFactorysThinkBlock()
    {
        Assert.Equal(ThinkBlockPlacement.Answer, Bind(("enable_thinking", "true")).Prompt.ThinkBlock);
        Assert.Equal(ThinkBlockPlacement.Prompt, Bind(("enable_thinking", "false")).Prompt.ThinkBlock);
        Assert.Equal(ThinkBlockPlacement.Answer, Bind(("enable_thinking", "true"), ("think_block", "answer")).Prompt.ThinkBlock);
        var e = Assert.Throws<UserException>(() => Bind(("enable_thinking", "true"), ("think_block", "prompt")));
        Assert.Contains("train.yaml: enable_thinking: true contradicts train.yaml: think_block: prompt", e.Message);
    }

    [Theory]
    [InlineData("cutoff_len", "many", "train.yaml: cutoff_len: expected an integer, got 'many'")]
    [InlineData("cutoff_len", "1", "train.yaml: cutoff_len: expected an integer >= 2, got 1")]
    [InlineData("truncation", "middle", "train.yaml: truncation: expected one of left, history, drop, error, got 'middle'")]
    [InlineData("mask_history", "yes please", "train.yaml: mask_history: expected true or false, got 'yes please'")]
    [InlineData("think_block", "both", "train.yaml: think_block: expected one of prompt, answer, got 'both'")]
    [InlineData("template_kwargs", "[1]", "train.yaml: template_kwargs: expected a JSON object")]
    [InlineData("template", "", "train.yaml: template: expected a built-in template name or a .jinja path")]
    public void BadValuesNameTheKey(string key, string value, string message)
    {
        var e = Assert.Throws<UserException>(() => Bind((key, value)));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void TheLookupFormNamesKeysAsTheCallerSays()
    {
        var e = Assert.Throws<UserException>(() => PreprocessSettingsBinder.Bind(k => k == "cutoff_len" ? "x" : null, k => "--" + k.Replace('_', '-')));
        Assert.Equal("--cutoff-len: expected an integer, got 'x'", e.Message);
        Assert.Equal(12, PreprocessSettingsBinder.Keys.Count);
    }

    private static string CanonicalOf(object o) => SharpTune.IO.CanonicalJson.Serialize(o);
}
