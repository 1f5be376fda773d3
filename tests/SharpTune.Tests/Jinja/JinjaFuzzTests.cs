using System.Diagnostics;
using System.Text;
using SharpTune.Text.Jinja;
using SharpTune.Text.Templates;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Jinja;

/// <summary>
/// Seeded fuzzing of the lexer, parser and evaluator with random token soups and mutations of the real chat
/// templates: every outcome is a render or a <see cref="JinjaException"/> (no other exception, no crash), and each
/// case finishes within the sandbox's time limit.
/// </summary>
public class JinjaFuzzTests
{
    private static readonly string[] Pieces =
    [
        "{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "{%-", "-%}", " ", "\n", "if", "elif", "else", "endif", "for", "in", "endfor",
        "set", "endset", "macro", "endmacro", "call", "endcall", "filter", "endfilter", "raw", "endraw", "break", "continue",
        "x", "m", "messages", "loop", "ns", "namespace(a=1)", "range(5)", "(", ")", "[", "]", "{", "}", ",", ":", ".", "|", "~", "*", "**", "/", "//",
        "%", "==", "!=", "<", ">", "=", "not", "and", "or", "is", "defined", "none", "true", "'s'", "\"q\"", "'\\n'", "1", "-1", "2.5", "0",
        "trim", "tojson", "length", "join", "map", "select", "upper", "items()", "split", "strip('x')", "[::-1]", "[1:]", "content", "role",
        "raise_exception('r')", "loop.index", "caller()", "'a' * 3", "x if y else z",
    ];

    private static readonly SandboxLimits Limits = new() { Timeout = TimeSpan.FromSeconds(2), MaxLoopIterations = 100_000, MaxOutputChars = 1_000_000 };

    private static Dictionary<string, object?> Vars() => new()
    {
        ["messages"] = new List<object?>
        {
            new Dictionary<string, object?> { ["role"] = "system", ["content"] = "s" },
            new Dictionary<string, object?> { ["role"] = "user", ["content"] = " u\n" },
            new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = "<think>a</think>b" },
        },
        ["x"] = 3,
        ["m"] = new Dictionary<string, object?> { ["role"] = "user", ["content"] = "c" },
        ["add_generation_prompt"] = true,
        ["bos_token"] = "<s>",
    };

    private static void RunOne(string src, int seed)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            JinjaTemplate.Compile(src, "fuzz", Limits).Render(Vars());
        }
        catch (JinjaException) { }
        catch (Exception e)
        {
            Assert.Fail($"seed {seed}: {e.GetType().Name}: {e.Message}\ntemplate: {System.Text.Json.JsonSerializer.Serialize(src)}\n{e.StackTrace}");
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"seed {seed}: took {sw.Elapsed}");
    }

    [Fact]
    public void RandomTokenSoupsRaiseOnlyTypedErrors()
    {
        var rng = new Random(20261122);
        for (int i = 0; i < 3000; i++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 40);
            for (int k = 0; k < n; k++) sb.Append(Pieces[rng.Next(Pieces.Length)]).Append(rng.Next(3) == 0 ? " " : "");
            RunOne(sb.ToString(), i);
        }
    }

    [Fact]
    public void MutatedRealTemplatesRaiseOnlyTypedErrors()
    {
        var dir = Path.Combine(TestEnvironment.RepoRoot, "tests", "data", "templates");
        var sources = Directory.GetFiles(dir, "*.jinja").Order(StringComparer.Ordinal).Select(File.ReadAllText).ToArray();
        var rng = new Random(7);
        for (int i = 0; i < 1500; i++)
        {
            var src = new StringBuilder(sources[i % sources.Length]);
            int edits = rng.Next(1, 6);
            for (int e = 0; e < edits && src.Length > 0; e++)
            {
                int at = rng.Next(src.Length);
                switch (rng.Next(4))
                {
                    case 0: src.Remove(at, Math.Min(rng.Next(1, 8), src.Length - at)); break;
                    case 1: src.Insert(at, Pieces[rng.Next(Pieces.Length)]); break;
                    case 2: src[at] = "{}%#-+()[]'\"|.~ \nxa1"[rng.Next(20)]; break;
                    default:
                        int from = rng.Next(src.Length), len = Math.Min(rng.Next(1, 30), src.Length - from);
                        src.Insert(at, src.ToString(from, len));
                        break;
                }
            }
            RunOne(src.ToString(), i);
            RunTracked(src.ToString(), i);
        }
    }

    private static readonly ChatMessage[] Conversation =
    [
        new("system", "s"), new("user", " u\n"), new("assistant", "<think>\nr\n</think>\n\nanswer "), new("user", "again"), new("assistant", "b"),
    ];

    // The span-tracking render must be as robust, and every span it reports must be a verbatim copy of content.
    private static void RunTracked(string src, int seed)
    {
        ChatRender r;
        try
        {
            r = ChatTemplate.FromString(src, "fuzz", bosToken: "<s>", eosToken: "</s>", limits: Limits).RenderWithSpans(Conversation, new ChatRenderOptions { AddGenerationPrompt = true });
        }
        catch (JinjaException) { return; }
        catch (Exception e)
        {
            Assert.Fail($"seed {seed} (tracked): {e.GetType().Name}: {e.Message}\ntemplate: {System.Text.Json.JsonSerializer.Serialize(src)}\n{e.StackTrace}");
            return;
        }
        foreach (var s in r.ContentSpans)
            Assert.Equal(Conversation[s.MessageIndex].Content!.Substring(s.ContentOffset, s.Length), r.Text.Substring(s.Start, s.Length));
    }
}
