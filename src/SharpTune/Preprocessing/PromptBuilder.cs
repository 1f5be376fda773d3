using SharpTune.Data.Sft;
using SharpTune.Text;

namespace SharpTune.Preprocessing;

/// <summary>The training render of a record: the text, where its answers are, and the matching inference prompt.</summary>
/// <param name="Text">The whole conversation as the template renders it.</param>
/// <param name="Answers">Character spans to supervise, in order (earlier assistant turns first, the final answer last).</param>
/// <param name="Prompt">The inference prompt for the final answer (rendered with the generation prompt), or null for text records.</param>
/// <param name="PromptIsPrefix">Whether <paramref name="Prompt"/> is a prefix of <paramref name="Text"/> (the render-parity precondition).</param>
public sealed record TrainingRender(string Text, CharSpan[] Answers, string? Prompt, bool PromptIsPrefix);

/// <summary>
/// The one component that turns a record into both its training render and its inference prompt — same messages,
/// same system prompt (the record's, else the configured default), same template, same keyword arguments. Inference
/// must call <see cref="InferencePrompt"/> rather than render prompts itself, so the model is always asked in the
/// format it was trained on.
/// </summary>
public sealed class PromptBuilder
{
    private readonly IChatRenderer _renderer;
    private readonly PromptSettings _settings;
    private readonly IReadOnlyDictionary<string, object?> _kwargs;

    /// <summary>
    /// Creates a builder over a renderer (the template that <paramref name="settings"/> name, compiled) and the
    /// prompt settings; training and inference both build one this way.
    /// </summary>
    public PromptBuilder(IChatRenderer renderer, PromptSettings settings)
    {
        _renderer = renderer;
        _settings = settings;
        var kwargs = new Dictionary<string, object?>(settings.TemplateKwargs);
        // think_block=prompt: the empty think block is rendered by the generation prompt (enable_thinking=false),
        // so it ends the prompt; think_block=answer: the prompt stops at the assistant header and the block is answer.
        bool wanted = settings.ThinkBlock == ThinkBlockPlacement.Answer;
        if (kwargs.TryGetValue("enable_thinking", out var given) && given is bool b && b != wanted)
            throw new UserException($"template_kwargs.enable_thinking={b.ToString().ToLowerInvariant()} contradicts think_block={settings.ThinkBlock.ToString().ToLowerInvariant()} (think_block=prompt renders with enable_thinking=false, think_block=answer with true)");
        kwargs["enable_thinking"] = wanted;
        _kwargs = kwargs;
    }

    /// <summary>The template keyword arguments used for every render (training and inference).</summary>
    public IReadOnlyDictionary<string, object?> TemplateKwargs => _kwargs;

    /// <summary>
    /// The inference prompt of a record: its messages up to (not including) the final answer, rendered with the
    /// generation prompt. A record may end with a user turn (a question to answer) or an assistant turn (ignored).
    /// </summary>
    public string InferencePrompt(SftRecord record) => record.Kind switch
    {
        SftRecordKind.Completion => record.Prompt,
        SftRecordKind.Text => throw new UserException($"{record.Source}: a text record has no prompt to infer from"),
        _ => _renderer.Render(Messages(record, ExcludeFinalAnswer(record)), addGenerationPrompt: true, KwargsFor(record)),
    };

    /// <summary>The settings the builder renders with.</summary>
    public PromptSettings Settings => _settings;

    /// <summary>The template variables of one record: the shared ones, plus the record's <c>tools</c> when it has any.</summary>
    public IReadOnlyDictionary<string, object?> KwargsFor(SftRecord record) =>
        record.Tools is null ? _kwargs : new Dictionary<string, object?>(_kwargs) { ["tools"] = record.Tools };

    /// <summary>
    /// Renders a record for training and locates its answers: every assistant turn's, or only the final one's when
    /// <paramref name="finalAnswerOnly"/> (<c>mask_history</c>).
    /// </summary>
    public TrainingRender RenderTraining(SftRecord record, bool finalAnswerOnly = false)
    {
        switch (record.Kind)
        {
            case SftRecordKind.Text:
                return new TrainingRender(record.Completion, [new CharSpan(0, record.Completion.Length)], null, true);
            case SftRecordKind.Completion:
                var all = record.Prompt + record.Completion;
                return new TrainingRender(all, [new CharSpan(record.Prompt.Length, all.Length)], record.Prompt, true);
        }
        if (record.Turns.Count == 0 || record.Turns[^1].Role != "assistant")
            throw new UserException($"{record.Source}: a training record must end with an assistant turn");
        var messages = Messages(record, record.Turns.Count);
        var kwargs = KwargsFor(record);
        var (text, contentSpans) = _renderer.RenderTracked(messages, addGenerationPrompt: false, kwargs);
        int systemOffset = messages.Count - record.Turns.Count; // 1 when a system message leads
        var answers = new List<CharSpan>();
        int searchFrom = 0;
        string? finalPrompt = null;
        bool isPrefix = true;
        for (int t = 0; t < record.Turns.Count; t++)
        {
            if (record.Turns[t].Role != "assistant") continue;
            bool last = t == record.Turns.Count - 1;
            if (!last && finalAnswerOnly) continue;
            var prefixMessages = Messages(record, t);
            var prompt = _renderer.Render(prefixMessages, addGenerationPrompt: true, kwargs);
            int common = CommonPrefixLength(prompt, text);
            bool prefix = common == prompt.Length;
            if (last)
            {
                finalPrompt = prompt;
                isPrefix = prefix;
            }
            var (contentStart, end) = TrackedContent(contentSpans, t + systemOffset, Math.Max(common, searchFrom))
                ?? FindContent(text, record.Turns[t].Content, Math.Max(common, searchFrom))
                ?? throw new UserException($"{record.Source}: cannot find the text of assistant turn {t + 1} in the rendered template output after position {Math.Max(common, searchFrom)}; the template changes the answer text beyond trimming");
            if (record.Turns[t].ToolCalls is { Count: > 0 })
            {
                // The template renders the tool calls itself: they end the answer (and start it when there is no content).
                var (callStart, callEnd) = ToolCallRegion(messages, t + systemOffset, text, kwargs);
                if (record.Turns[t].Content.Length == 0 || callStart < contentStart) contentStart = Math.Max(callStart, Math.Max(common, searchFrom));
                end = Math.Max(end, callEnd);
            }
            // When the generation prompt is a prefix of the render, everything after it up to the end of the content
            // is the answer (e.g. a leading space, or the think block with think_block=answer); otherwise only the content.
            int start = prefix && common >= searchFrom ? common : contentStart;
            answers.Add(new CharSpan(start, end));
            searchFrom = end;
        }
        return new TrainingRender(text, [.. answers], finalPrompt, isPrefix);
    }

    /// <summary>The template messages of a record's first <paramref name="turnCount"/> turns, with its system prompt.</summary>
    public IReadOnlyList<RenderMessage> Messages(SftRecord record, int turnCount)
    {
        var list = new List<RenderMessage>(turnCount + 1);
        var system = record.System ?? _settings.DefaultSystem;
        if (system is not null) list.Add(new RenderMessage("system", system));
        for (int i = 0; i < turnCount; i++) list.Add(new RenderMessage(record.Turns[i].Role, record.Turns[i].Content) { ToolCalls = record.Turns[i].ToolCalls });
        return list;
    }

    // Where message `index`'s tool calls sit in `text`: the render without them differs from `text` by exactly that
    // insertion. The common suffix is taken first, so an insertion that could slide (e.g. one starting with the same
    // '<' as the end-of-turn token after it) is placed as far left as possible, right after the message's content.
    private (int Start, int End) ToolCallRegion(IReadOnlyList<RenderMessage> messages, int index, string text, IReadOnlyDictionary<string, object?> kwargs)
    {
        var without = messages.ToArray();
        without[index] = without[index] with { ToolCalls = null };
        var other = _renderer.Render(without, addGenerationPrompt: false, kwargs);
        int suffix = 0;
        while (suffix < other.Length && suffix < text.Length && text[^(suffix + 1)] == other[^(suffix + 1)]) suffix++;
        int prefix = Math.Min(text.AsSpan().CommonPrefixLength(other), other.Length - suffix);
        return (prefix, text.Length - suffix);
    }

    private static int ExcludeFinalAnswer(SftRecord r) =>
        r.Turns.Count > 0 && r.Turns[^1].Role == "assistant" ? r.Turns.Count - 1 : r.Turns.Count;

    private static int CommonPrefixLength(string a, string b) => a.AsSpan().CommonPrefixLength(b);

    // The content span the renderer tracked for a message, when it lies where the answer is expected.
    private static (int Start, int End)? TrackedContent(IReadOnlyDictionary<int, CharSpan>? spans, int messageIndex, int from) =>
        spans is not null && spans.TryGetValue(messageIndex, out var s) && s.Start >= from ? (s.Start, s.End) : null;

    // The answer text in the render: the content as given, else trimmed (templates often apply | trim).
    private static (int Start, int End)? FindContent(string text, string content, int from)
    {
        if (content.Length == 0) return (from, from);
        int at = text.IndexOf(content, from, StringComparison.Ordinal);
        if (at >= 0) return (at, at + content.Length);
        var trimmed = content.Trim();
        if (trimmed.Length == 0) return (from, from);
        at = text.IndexOf(trimmed, from, StringComparison.Ordinal);
        return at >= 0 ? (at, at + trimmed.Length) : null;
    }
}
