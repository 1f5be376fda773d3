namespace SharpTune.Engine.Cpu.Gemm;

/// <summary>Where the B operand of a <see cref="GemmJob"/> comes from.</summary>
internal enum GemmSource
{
    /// <summary><c>B = Wᵀ</c> of a packed weight (the forward <c>x · Wᵀ</c>): the panels are read in place.</summary>
    WeightTransposed,

    /// <summary><c>B = W</c> of a packed weight (the input gradient <c>dy · W</c>): repacked per call.</summary>
    Weight,

    /// <summary>A strided fp32 matrix: <c>B[k, n] = B[k·BRow + n·BCol]</c>; repacked per call.</summary>
    Matrix,
}

/// <summary>
/// One GEMM <c>C [M, N] (+)= Alpha · A [M, K] · B [K, N] (+ bias) (+ Alpha2 · A2 [M, K2] · B2 [K2, N])</c>. A is strided:
/// <c>A[i, k] = A[i·ARow + k·ACol]</c> (a transposed matrix is a stride swap); C is row-major and contiguous. The optional
/// second, low-rank product (a LoRA update: A2 row-major with row stride A2Row, B2 strided) is added to each output
/// tile right after its main product, while the tile is still in cache.
/// </summary>
internal unsafe struct GemmJob
{
    public float* A;
    public long ARow, ACol;
    public int M, N, K;
    public float Alpha;
    public GemmSource Source;
    public CpuLinearWeight? Weight;
    public float* B;
    public long BRow, BCol;
    public float* Bias;
    public float* C;
    public bool Accumulate;
    public float* A2;
    public long A2Row;
    public int K2;
    public float* B2;
    public long B2Row, B2Col;
    public float Alpha2;

    /// <summary>Whether the job carries a second, low-rank product.</summary>
    public readonly bool HasLowRank => K2 > 0;
}
