using System.Text;
using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Text.Jinja;
using SharpTune.Text.Templates;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune template render</c>: render chat templates over JSONL cases.</summary>
internal static class TemplateCommands
{
    public static CliCommand Create() =>
        new CliCommand("template", "Render chat templates (Jinja) as transformers' apply_chat_template does.")
            .Add(Render());

    private static CliCommand Render() =>
        new CliCommand("render", "Render JSONL cases from stdin with a chat template; write JSONL results to stdout.")
        {
            Description =
                "Each stdin line: {\"messages\": [{\"role\", \"content\", ...}], \"add_generation_prompt\": bool, \"kwargs\": {...}}.\n" +
                "Each stdout line: {\"text\": \"...\"}, or {\"error\": \"...\"} for a case whose template raises.\n" +
                "The template comes from --tokenizer-config (its chat_template) or --template (a built-in name: " +
                string.Join(", ", ChatTemplate.BuiltinNames) + "; or a .jinja file).\n" +
                "kwargs may hold tools, enable_thinking and any other template variable. Malformed input lines are user errors.",
        }
            .Option("tokenizer-config", "tokenizer_config.json whose chat_template to use", "PATH")
            .Option("template-name", "which named chat_template of the tokenizer config (default: default)", "NAME")
            .Option("template", "built-in template name or .jinja file", "NAME|PATH")
            .Option("bos-token", "override bos_token", "TEXT")
            .Option("eos-token", "override eos_token", "TEXT")
            .Handle(Run);

    private static int Run(ParsedArgs a)
    {
        bool hasConfig = a.Has("tokenizer-config"), hasTemplate = a.Has("template");
        if (hasConfig == hasTemplate) throw new UserException("give exactly one of --tokenizer-config PATH or --template NAME|PATH");
        if (a.Has("template-name") && !hasConfig) throw new UserException("--template-name selects a template of --tokenizer-config; it cannot be used with --template");
        var template = hasConfig
            ? ChatTemplate.FromTokenizerConfig(a.RequiredString("tokenizer-config"), a.String("template-name"))
            : ChatTemplate.Resolve(a.RequiredString("template"));
        string? bos = a.String("bos-token"), eos = a.String("eos-token");
        int lineNo = 0, rendered = 0, failed = 0;
        string? line;
        while ((line = a.In.ReadLine()) is not null)
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            var (messages, options) = ParseCase(line, lineNo, bos, eos);
            string json;
            try
            {
                json = JsonSerializer.Serialize(new TextResult(template.Render(messages, options)), JsonOptions);
                rendered++;
            }
            catch (JinjaException e)
            {
                json = JsonSerializer.Serialize(new ErrorResult(e.Message), JsonOptions);
                failed++;
            }
            a.Out.Write(json);
            a.Out.Write('\n');
        }
        a.Error.WriteLine($"template render: {rendered} rendered, {failed} raised");
        return CliApp.Success;
    }

    private sealed record TextResult(string text);

    private sealed record ErrorResult(string error);

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static (List<ChatMessage>, ChatRenderOptions) ParseCase(string line, int lineNo, string? bos, string? eos)
    {
        string where = $"stdin line {lineNo}";
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { throw new UserException($"{where}: not valid JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new UserException($"{where}: expected a JSON object");
            if (!root.TryGetProperty("messages", out var msgs) || msgs.ValueKind != JsonValueKind.Array)
                throw new UserException($"{where}: field 'messages' must be a list of messages");
            var messages = new List<ChatMessage>();
            int i = 0;
            foreach (var m in msgs.EnumerateArray()) messages.Add(ChatMessage.FromJson(m, $"{where}, messages[{i++}]"));
            bool agp = false;
            if (root.TryGetProperty("add_generation_prompt", out var g))
                agp = g.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False or JsonValueKind.Null => false,
                    _ => throw new UserException($"{where}: field 'add_generation_prompt' must be true or false"),
                };
            var vars = new Dictionary<string, object?>(StringComparer.Ordinal);
            IReadOnlyList<object?>? tools = null;
            if (root.TryGetProperty("kwargs", out var kw) && kw.ValueKind != JsonValueKind.Null)
            {
                if (kw.ValueKind != JsonValueKind.Object) throw new UserException($"{where}: field 'kwargs' must be an object");
                foreach (var p in kw.EnumerateObject())
                {
                    if (p.Name == "tools" && p.Value.ValueKind == JsonValueKind.Array) tools = p.Value.EnumerateArray().Select(x => (object?)x.Clone()).ToList();
                    else vars[p.Name] = p.Value.Clone();
                }
            }
            return (messages, new ChatRenderOptions { AddGenerationPrompt = agp, BosToken = bos, EosToken = eos, Tools = tools, Variables = vars });
        }
    }
}
