namespace SharpTune.Preprocessing;

/// <summary>What happened to one sample that did not pass through unchanged.</summary>
/// <param name="Index">0-based record index in the input.</param>
/// <param name="Source">The record's location (<c>file:line</c> or <c>file[index]</c>).</param>
/// <param name="Action"><c>truncated</c>, <c>dropped</c> or <c>render-mismatch</c>.</param>
/// <param name="OriginalLength">Token length before truncation.</param>
/// <param name="FinalLength">Token length kept (0 when dropped).</param>
/// <param name="Detail">What was removed, or why it was dropped, or where the render differs.</param>
public sealed record PreprocessEvent(int Index, string Source, string Action, int OriginalLength, int FinalLength, string Detail);

/// <summary>Counts and per-sample events of one preprocessing run; nothing is skipped silently.</summary>
public sealed class PreprocessReport
{
    /// <summary>Records read.</summary>
    public int Records { get; internal set; }

    /// <summary>Samples kept.</summary>
    public int Kept { get; internal set; }

    /// <summary>Samples shortened to fit cutoff_len.</summary>
    public int Truncated { get; internal set; }

    /// <summary>Samples left out (over-long with truncation=drop, answer alone too long, or nothing supervised).</summary>
    public int Dropped { get; internal set; }

    /// <summary>Samples whose inference prompt did not tokenize to the training prefix (only with allow_render_mismatch).</summary>
    public int RenderMismatches { get; internal set; }

    /// <summary>Supervised tokens over all kept samples.</summary>
    public long SupervisedTokens { get; internal set; }

    /// <summary>Masked tokens over all kept samples.</summary>
    public long MaskedTokens { get; internal set; }

    /// <summary>Every truncated, dropped or mismatched sample, in record order.</summary>
    public List<PreprocessEvent> Events { get; } = [];
}
