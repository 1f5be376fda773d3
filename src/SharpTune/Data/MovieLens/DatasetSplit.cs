namespace SharpTune.Data.MovieLens;

/// <summary>One of the three splits.</summary>
public enum DatasetSplit
{
    /// <summary>Training samples (train.json).</summary>
    Train,

    /// <summary>Validation samples (a deterministic selection goes to eval.json).</summary>
    Val,

    /// <summary>Test samples (test_raw.jsonl).</summary>
    Test,
}
