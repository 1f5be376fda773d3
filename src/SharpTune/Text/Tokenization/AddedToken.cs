namespace SharpTune.Text.Tokenization;

/// <summary>
/// A token added on top of the model's vocabulary (tokenizer.json <c>added_tokens</c>). It is found in the raw
/// text before the model runs; special ones can be skipped when decoding.
/// </summary>
/// <param name="Id">Its id.</param>
/// <param name="Content">The text it matches.</param>
/// <param name="Special">Whether it is a special token (control token such as <c>&lt;|im_start|&gt;</c>).</param>
/// <param name="SingleWord">Match only when not inside a word.</param>
/// <param name="LStrip">Also consume whitespace on its left.</param>
/// <param name="RStrip">Also consume whitespace on its right.</param>
/// <param name="Normalized">Match against the normalized text (instead of the original).</param>
public sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord = false, bool LStrip = false, bool RStrip = false, bool Normalized = false);

/// <summary>An added token found in text: its id and the units [Start, End) it covers.</summary>
internal readonly record struct AddedTokenMatch(int Id, int Start, int End);
