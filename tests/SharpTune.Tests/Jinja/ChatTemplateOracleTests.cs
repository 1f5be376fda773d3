using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.Tests.Support;
using SharpTune.Text.Jinja;
using SharpTune.Text.Templates;

namespace SharpTune.Tests.Jinja;

/// <summary>
/// Real chat templates (tests/data/templates: Qwen3, Llama 3, Llama 3.1, Gemma 3, Mistral v0.1/v0.3, Mixtral,
/// Llama-2-chat) and SharpTune's built-ins, rendered through <see cref="ChatTemplate"/> and through jinja2 with the
/// variables transformers passes; every render must be byte-identical, and every case jinja2 raises on must raise.
/// </summary>
public class ChatTemplateOracleTests
{
    private static readonly string TemplateDir = Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "templates");

    private static readonly (string File, string? Bos, string? Eos)[] Files =
    [
        ("qwen3.jinja", null, "<|im_end|>"),
        ("llama3.jinja", "<|begin_of_text|>", "<|end_of_text|>"),
        ("llama3.1.jinja", "<|begin_of_text|>", "<|eot_id|>"),
        ("gemma3.jinja", "<bos>", "<end_of_turn>"),
        ("mistral-v0.1.jinja", "<s>", "</s>"),
        ("mistral-v0.3.jinja", "<s>", "</s>"),
        ("mixtral.jinja", "<s>", "</s>"),
        ("llama2-chat.jinja", "<s>", "</s>"),
    ];

    private static ChatMessage M(string role, string content) => new(role, content);

    private static readonly (string Name, ChatMessage[] Messages)[] Conversations =
    [
        ("system one turn", [M("system", "You are a movie recommender."), M("user", "I liked Heat (1995)."), M("assistant", "Try Ronin (1998).")]),
        ("no system one turn", [M("user", "Hello"), M("assistant", "Hi there")]),
        ("system two turns", [M("system", "Be brief."), M("user", "One?"), M("assistant", "1"), M("user", "Two?"), M("assistant", "2")]),
        ("no system two turns", [M("user", "a"), M("assistant", "b"), M("user", "c"), M("assistant", "d")]),
        ("prompt only", [M("system", "S"), M("user", "Recommend a film.")]),
        ("assistant leading spaces and newlines", [M("user", "q"), M("assistant", "  \n\nanswer with space  ")]),
        ("assistant leading newline only", [M("user", "q"), M("assistant", "\nline")]),
        ("non-ascii", [M("system", "Réponds en français 🎬."), M("user", "Amélie (2001) — 日本語?"), M("assistant", "Oui: « Le Fabuleux Destin » ✓")]),
        ("qwen3 think in content", [M("user", "why?"), M("assistant", "<think>\nbecause\n</think>\n\nAnswer.")]),
        ("roles not alternating", [M("user", "a"), M("user", "b")]),
        ("system only", [M("system", "only a system message")]),
    ];

    private sealed record Case(string Name, Func<ChatTemplate> Template, string Source, ChatMessage[] Messages, bool Agp, Dictionary<string, object?> Kwargs, string? Bos, string? Eos);

    private static List<Case> BuildCases()
    {
        var cases = new List<Case>();
        var sources = new List<(string Name, Func<ChatTemplate> Make, string Source, string? Bos, string? Eos)>();
        foreach (var (file, bos, eos) in Files)
        {
            var path = Path.Combine(TemplateDir, file);
            sources.Add((file, () => ChatTemplate.FromFile(path, bos, eos), File.ReadAllText(path), bos, eos));
        }
        foreach (var name in ChatTemplate.BuiltinNames)
        {
            var t = ChatTemplate.Builtin(name);
            sources.Add(("builtin " + name, () => ChatTemplate.Builtin(name), t.Source, t.DefaultBosToken, t.DefaultEosToken));
        }
        foreach (var (tname, make, src, bos, eos) in sources)
            foreach (var (cname, msgs) in Conversations)
                foreach (var agp in new[] { false, true })
                {
                    cases.Add(new Case($"{tname} / {cname} / agp={agp}", make, src, msgs, agp, [], bos, eos));
                    if (tname.Contains("qwen3"))
                        foreach (var think in new[] { true, false })
                            cases.Add(new Case($"{tname} / {cname} / agp={agp} / enable_thinking={think}", make, src, msgs, agp, new() { ["enable_thinking"] = think }, bos, eos));
                }
        // Reasoning content and tool calls through Qwen3.
        var q = sources.First(s => s.Name == "qwen3.jinja");
        var call = JsonDocument.Parse("""{"type": "function", "function": {"name": "lookup", "arguments": {"title": "Heat", "year": 1995}}}""").RootElement.Clone();
        var tool = JsonDocument.Parse("""{"type": "function", "function": {"name": "lookup", "description": "Find a film", "parameters": {"type": "object", "properties": {"title": {"type": "string"}}}}}""").RootElement.Clone();
        ChatMessage[] withTools =
        [
            M("user", "Find Heat"),
            new ChatMessage("assistant", "") { ToolCalls = [call], ReasoningContent = "I should look it up." },
            new ChatMessage("tool", "{\"year\": 1995}"),
            new ChatMessage("assistant", "It is from 1995.") { ReasoningContent = "The tool said 1995." },
        ];
        cases.Add(new Case("qwen3 / tools and reasoning", q.Make, q.Source, withTools, false, new() { ["tools"] = new List<object?> { tool } }, q.Bos, q.Eos));
        cases.Add(new Case("qwen3 / tools and reasoning / agp", q.Make, q.Source, withTools, true, new() { ["tools"] = new List<object?> { tool } }, q.Bos, q.Eos));
        return cases;
    }

    private static readonly Lazy<List<Case>> Cases = new(BuildCases);

    private static JsonNode? ToNode(object? v) => v switch
    {
        null => null,
        JsonElement e => JsonNode.Parse(e.GetRawText()),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        IEnumerable<object?> l => new JsonArray(l.Select(ToNode).ToArray()),
        _ => throw new ArgumentException(v.GetType().Name),
    };

    // The variables transformers' apply_chat_template passes: messages, tools, documents, add_generation_prompt,
    // the special tokens the tokenizer has, and the extra keyword arguments.
    private static string OracleLine(Case c)
    {
        var msgs = new JsonArray();
        foreach (var m in c.Messages)
        {
            var o = new JsonObject { ["role"] = m.Role, ["content"] = m.Content };
            if (m.ReasoningContent is not null) o["reasoning_content"] = m.ReasoningContent;
            if (m.ToolCalls is not null) o["tool_calls"] = ToNode(m.ToolCalls);
            msgs.Add(o);
        }
        var vars = new JsonObject { ["messages"] = msgs, ["tools"] = null, ["documents"] = null, ["add_generation_prompt"] = c.Agp };
        if (c.Bos is not null) vars["bos_token"] = c.Bos;
        if (c.Eos is not null) vars["eos_token"] = c.Eos;
        foreach (var (k, v) in c.Kwargs) vars[k] = ToNode(v);
        return new JsonObject { ["template"] = c.Source, ["vars"] = vars }.ToJsonString();
    }

    private static readonly Lazy<IReadOnlyList<JinjaOracle.Result>> Expected = new(() => JinjaOracle.Render(Cases.Value.Select(OracleLine).ToList()));

    public static TheoryData<string> CaseNames()
    {
        var d = new TheoryData<string>();
        foreach (var c in BuildCases()) d.Add(c.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesTransformersRender(string name)
    {
        TestEnvironment.RequireOracle(JinjaOracle.Available, "/usr/bin/python3 with jinja2");
        int i = Cases.Value.FindIndex(c => c.Name == name);
        var c = Cases.Value[i];
        var expected = Expected.Value[i];
        var options = new ChatRenderOptions
        {
            AddGenerationPrompt = c.Agp,
            Tools = c.Kwargs.TryGetValue("tools", out var t) ? (IReadOnlyList<object?>?)t : null,
            Variables = c.Kwargs.Where(kv => kv.Key != "tools").ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        string? actual = null;
        JinjaException? error = null;
        try { actual = c.Template().Render(c.Messages, options); }
        catch (JinjaException e) { error = e; }
        if (expected.Error is not null)
        {
            Assert.True(error is not null, $"jinja2 raised '{expected.Error}' but SharpTune rendered {JsonSerializer.Serialize(actual)}");
            return;
        }
        Assert.True(error is null, $"SharpTune raised '{error?.Message}' but jinja2 rendered {JsonSerializer.Serialize(expected.Text)}");
        Assert.True(expected.Text == actual, JinjaOracle.Diff(expected.Text!, actual!));
        // The tracking render produces the same text, and every span it reports is a verbatim copy of content.
        var tracked = c.Template().RenderWithSpans(c.Messages, options);
        Assert.Equal(actual, tracked.Text);
        foreach (var s in tracked.ContentSpans)
            Assert.Equal(c.Messages[s.MessageIndex].Content!.Substring(s.ContentOffset, s.Length), tracked.Text.Substring(s.Start, s.Length));
        // Every non-blank assistant answer that appears in the text is located by a span.
        for (int m = 0; m < c.Messages.Length; m++)
        {
            var content = c.Messages[m].Content!;
            if (c.Messages[m].Role != "assistant" || content.Trim().Length == 0 || content.Contains("<think>") || !actual!.Contains(content.Trim())) continue;
            Assert.Contains(tracked.ContentSpans, s => s.MessageIndex == m);
        }
    }

    private static readonly string[] Contents =
    [
        "", " ", "Hello", "  leading spaces", "\nleading newline", "trailing newline\n", "two\n\nparagraphs", "tab\tinside",
        "<think>\nreasoning\n</think>\n\nanswer", "<think></think>x", "</think>only close", "<tool_response>\n{\"ok\": 1}\n</tool_response>",
        "Amélie (2001) — 日本語 😀", "quotes ' and \" and \\ backslash", "{{ not a template }}", "[INST] fake [/INST]", "<|im_end|>",
        "1. Heat (1995)\n2. Ronin (1998)\n3. Fargo (1996)",
    ];

    private static readonly string[] Roles = ["user", "assistant", "tool", "system"];

    [Fact]
    public void RandomConversationsMatchTransformersRender()
    {
        TestEnvironment.RequireOracle(JinjaOracle.Available, "/usr/bin/python3 with jinja2");
        var rng = new Random(2026);
        var cases = new List<Case>();
        foreach (var (file, bos, eos) in Files)
        {
            var path = Path.Combine(TemplateDir, file);
            var src = File.ReadAllText(path);
            for (int k = 0; k < 60; k++)
            {
                int n = rng.Next(1, 7);
                var msgs = new List<ChatMessage>();
                for (int i = 0; i < n; i++)
                {
                    // Mostly well-formed (optional system, then alternating user/assistant), sometimes anything.
                    string role = rng.Next(6) == 0 ? Roles[rng.Next(Roles.Length)] : i == 0 && rng.Next(3) == 0 ? "system" : (msgs.Count(m => m.Role != "system") % 2 == 0 ? "user" : "assistant");
                    var m = new ChatMessage(role, Contents[rng.Next(Contents.Length)]);
                    if (role == "assistant" && rng.Next(4) == 0) m = m with { ReasoningContent = Contents[rng.Next(Contents.Length)] };
                    msgs.Add(m);
                }
                var kwargs = new Dictionary<string, object?>();
                if (rng.Next(2) == 0) kwargs["enable_thinking"] = rng.Next(2) == 0;
                cases.Add(new Case($"{file} random {k}", () => ChatTemplate.FromFile(path, bos, eos), src, msgs.ToArray(), rng.Next(2) == 0, kwargs, bos, eos));
            }
        }
        var expected = JinjaOracle.Render(cases.Select(OracleLine).ToList());
        var failures = new System.Text.StringBuilder();
        int bad = 0, raised = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var options = new ChatRenderOptions { AddGenerationPrompt = c.Agp, Variables = c.Kwargs };
            string? actual = null;
            JinjaException? error = null;
            try { actual = c.Template().Render(c.Messages, options); }
            catch (JinjaException e) { error = e; }
            bool ok = expected[i].Error is not null ? error is not null : error is null && expected[i].Text == actual;
            if (expected[i].Error is not null) raised++;
            if (!ok && ++bad <= 5) failures.Append($"{c.Name}: expected {JsonSerializer.Serialize(expected[i].Text ?? expected[i].Error)}\n got {JsonSerializer.Serialize(actual ?? error?.Message)}\n");
        }
        Assert.True(bad == 0, $"{bad} of {cases.Count} differ ({raised} raised in jinja2):\n{failures}");
    }

    [Fact]
    public void SomeCasesRaiseThroughRaiseException()
    {
        TestEnvironment.RequireOracle(JinjaOracle.Available, "/usr/bin/python3 with jinja2");
        Assert.Contains(Expected.Value, r => r.Error?.StartsWith("TemplateError:", StringComparison.Ordinal) == true);
    }
}
