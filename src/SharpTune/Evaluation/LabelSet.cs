namespace SharpTune.Evaluation;

/// <summary>
/// The classes of a classification task (e.g. Yes, No), in a fixed order: at least two, non-empty, without
/// surrounding whitespace and distinct case-insensitively (answers are matched case-insensitively).
/// </summary>
public sealed class LabelSet
{
    private readonly string[] _labels;

    /// <summary>Validates and keeps the labels in the given order; <paramref name="what"/> names their source in errors.</summary>
    public LabelSet(IEnumerable<string> labels, string what = "--labels")
    {
        _labels = labels.ToArray();
        if (_labels.Length < 2)
            throw new UserException($"{what}: expected at least two labels (e.g. Yes,No), got {(_labels.Length == 0 ? "none" : $"only '{_labels[0]}'")}");
        for (int i = 0; i < _labels.Length; i++)
        {
            var l = _labels[i];
            if (l.Length == 0) throw new UserException($"{what}: label {i + 1} is empty");
            if (l.Trim() != l) throw new UserException($"{what}: label '{l}' has surrounding whitespace");
            for (int j = 0; j < i; j++)
                if (string.Equals(_labels[j], l, StringComparison.OrdinalIgnoreCase))
                    throw new UserException($"{what}: '{l}' is given twice (labels are compared case-insensitively)");
        }
    }

    /// <summary>Parses a comma-separated list such as <c>Yes,No</c>.</summary>
    public static LabelSet Parse(string commaSeparated, string what = "--labels") =>
        new(commaSeparated.Split(',').Select(s => s.Trim()), what);

    /// <summary>The labels in order.</summary>
    public IReadOnlyList<string> Labels => _labels;

    /// <summary>Number of labels.</summary>
    public int Count => _labels.Length;

    /// <summary>The label at an index.</summary>
    public string this[int index] => _labels[index];

    /// <summary>The index of a label (exact, case-sensitive), or -1.</summary>
    public int IndexOf(string label) => Array.IndexOf(_labels, label);

    /// <inheritdoc />
    public override string ToString() => string.Join(",", _labels);
}
