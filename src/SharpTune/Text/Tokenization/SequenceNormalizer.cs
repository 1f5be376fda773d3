namespace SharpTune.Text.Tokenization;

/// <summary>Runs normalizers in order.</summary>
internal sealed class SequenceNormalizer(IReadOnlyList<INormalizer> steps) : INormalizer
{
    public string Describe() => "Sequence[" + string.Join(", ", steps.Select(s => s.Describe())) + "]";

    public void Normalize(ref NormalizedBuffer current, ref NormalizedBuffer spare)
    {
        foreach (var step in steps) step.Normalize(ref current, ref spare);
    }
}
