namespace SharpTune.Engine;

/// <summary>
/// A linear layer's weight <c>[OutFeatures, InFeatures]</c> (Hugging Face layout) in whatever layout the backend's
/// GEMM wants (packed panels on the CPU). Also serves as an embedding table: row r is token r's vector.
/// </summary>
public abstract class LinearWeight
{
    /// <summary>Creates the handle.</summary>
    protected LinearWeight(int outFeatures, int inFeatures, ElementType storage)
    {
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        Storage = storage;
    }

    /// <summary>Output features (rows of the HF matrix).</summary>
    public int OutFeatures { get; }

    /// <summary>Input features (columns of the HF matrix).</summary>
    public int InFeatures { get; }

    /// <summary>How the elements are stored (F32 or BF16).</summary>
    public ElementType Storage { get; }
}
