using SharpTune.Data.Sft;
using SharpTune.Preprocessing;
using SharpTune.Text;

namespace SharpTune.Inference;

/// <summary>
/// The token that ends an assistant turn in a template (<c>&lt;|im_end|&gt;</c>, <c>&lt;|eot_id|&gt;</c>, <c>&lt;/s&gt;</c>, …),
/// found as training finds it: render a probe conversation and take the first special token after the answer
/// (whitespace-only tokens between are allowed). Generation stops there as well as at the EOS ids.
/// </summary>
public static class EndOfTurn
{
    /// <summary>The end-of-turn id of <paramref name="builder"/>'s template, or null (completion format, or a template that ends turns with plain text).</summary>
    public static int? Find(PromptBuilder builder, ITextTokenizer tokenizer)
    {
        var probe = new SftRecord
        {
            Source = "(end-of-turn probe)", Index = 0, Kind = SftRecordKind.Conversation,
            Turns = [new SftTurn("user", "ping"), new SftTurn("assistant", "pong")],
        };
        TrainingRender render;
        try { render = builder.RenderTraining(probe); }
        catch (UserException) { return null; }
        if (render.Prompt is null) return null;
        int end = render.Answers[^1].End;
        var (ids, offsets) = tokenizer.EncodeWithOffsets(render.Text);
        for (int i = 0; i < ids.Length; i++)
        {
            if (offsets[i].End <= end) continue;
            if (tokenizer.SpecialIds.Contains(ids[i])) return ids[i];
            if (offsets[i].Start < end) continue;
            var piece = render.Text[offsets[i].Start..offsets[i].End];
            if (!string.IsNullOrWhiteSpace(piece)) return null;
        }
        return null;
    }
}
