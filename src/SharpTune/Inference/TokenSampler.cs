namespace SharpTune.Inference;

/// <summary>
/// Picks the next token from a row of logits: argmax for greedy, else temperature → top-k → top-p (the order
/// transformers applies its warpers) and a draw from the seeded generator. Buffers are reused across calls.
/// </summary>
internal sealed class TokenSampler
{
    private readonly GenerationOptions _options;
    private readonly Random _random;
    private int[] _order = [];
    private double[] _probs = [];

    public TokenSampler(GenerationOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
    }

    public static int Argmax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    public int Next(ReadOnlySpan<float> logits)
    {
        if (_options.Temperature == 0) return Argmax(logits);
        int v = logits.Length;
        if (_order.Length != v) { _order = new int[v]; _probs = new double[v]; }
        float max = float.NegativeInfinity;
        foreach (var l in logits) max = MathF.Max(max, l);
        double t = _options.Temperature;
        for (int i = 0; i < v; i++) { _order[i] = i; _probs[i] = Math.Exp((logits[i] - max) / t); }
        var probs = _probs;
        // Most likely first (ties by id, so the order is deterministic).
        Array.Sort(_order, (a, b) => probs[b] != probs[a] ? probs[b].CompareTo(probs[a]) : a.CompareTo(b));
        int keep = _options.TopK > 0 ? Math.Min(_options.TopK, v) : v;
        double total = 0;
        for (int i = 0; i < keep; i++) total += probs[_order[i]];
        if (_options.TopP < 1)
        {
            double cum = 0;
            int n = 0;
            while (n < keep)
            {
                cum += probs[_order[n]] / total;
                n++;
                if (cum >= _options.TopP) break;
            }
            keep = n;
            total = 0;
            for (int i = 0; i < keep; i++) total += probs[_order[i]];
        }
        double u = _random.NextDouble() * total;
        for (int i = 0; i < keep; i++)
        {
            u -= probs[_order[i]];
            if (u < 0) return _order[i];
        }
        return _order[keep - 1];
    }
}
