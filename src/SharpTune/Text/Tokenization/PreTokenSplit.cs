namespace SharpTune.Text.Tokenization;

/// <summary>
/// One piece of the text on its way to the model: units [Start, End) of the normalized buffer, or an added token
/// already recognised (AddedId &gt;= 0) covering original units [OriginalStart, OriginalEnd).
/// </summary>
internal readonly record struct PreTokenSplit(int Start, int End, int AddedId, int OriginalStart, int OriginalEnd)
{
    public bool IsAdded => AddedId >= 0;

    public static PreTokenSplit Text(int start, int end) => new(start, end, -1, 0, 0);
}
