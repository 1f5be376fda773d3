namespace SharpTune.Data.Sft;

/// <summary>The record layouts SharpTune reads as supervised fine-tuning data.</summary>
public enum SftFormat
{
    /// <summary><c>{"instruction", "input", "output", "system"?, "history"?}</c>.</summary>
    Alpaca,

    /// <summary><c>{"messages": [{"role", "content"}, ...]}</c> (OpenAI style).</summary>
    Messages,

    /// <summary><c>{"conversations": [{"from", "value"}, ...]}</c> with a role map.</summary>
    ShareGpt,

    /// <summary><c>{"prompt", "completion"}</c>: raw text, no chat template roles.</summary>
    PromptCompletion,

    /// <summary><c>{"input_text", "full_text"}</c>: full_text = input_text + response.</summary>
    InputFullText,

    /// <summary><c>{"text"}</c>: continued pre-training, every token supervised.</summary>
    Text,
}
