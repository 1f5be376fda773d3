using SharpTune.Numerics;
using SharpTune.Data;

namespace SharpTune.Evaluation.Baselines;

/// <summary>
/// Biased matrix factorization: r̂(u, i) = μ + b_u + b_i + p_u·q_i, trained by seeded SGD on (user, item, rating)
/// triples. μ is the mean train rating (fixed); each epoch visits the ratings in a fresh SplitMix64 shuffle and, for
/// error e = r − r̂, steps b_u += η(e − λb_u), b_i += η(e − λb_i), p_u += η(e·q_i − λp_u), q_i += η(e·p_u − λq_i)
/// (both factor updates from the values before the step). A user without train ratings is folded in: b_u and p_u
/// minimize Σ(r − μ − b_i − b_u − p_u·q_i)² + λ·n·(b_u² + |p_u|²) over n given ratings with the item side fixed
/// (ridge regression, solved exactly). Items without train ratings keep b_i = 0 and q_i = 0.
/// </summary>
internal sealed class MatrixFactorization
{
    private readonly int _k;
    private readonly double[] _userBias, _itemBias;
    private readonly double[] _userFactors; // [users, k]
    private readonly double[] _itemFactors; // [items, k]
    private readonly double _reg;

    private MatrixFactorization(int users, int items, int k, double mean, double reg)
    {
        _k = k;
        Mean = mean;
        _reg = reg;
        _userBias = new double[users];
        _itemBias = new double[items];
        _userFactors = new double[users * k];
        _itemFactors = new double[items * k];
    }

    /// <summary>μ, the mean train rating.</summary>
    public double Mean { get; }

    /// <summary>Trains on ratings (stars) of user and item indices below <paramref name="users"/> and <paramref name="items"/>.</summary>
    public static MatrixFactorization Train(int users, int items, ReadOnlySpan<int> ratingUser, ReadOnlySpan<int> ratingItem, ReadOnlySpan<double> rating, MatrixFactorizationOptions o)
    {
        o.Validate();
        int n = rating.Length, k = o.Factors;
        double sum = 0;
        foreach (var r in rating) sum += r;
        var mf = new MatrixFactorization(users, items, k, n == 0 ? 0 : sum / n, o.Regularization);
        var rng = new SplitMix64(o.Seed);
        // Only users and items with train ratings get random factors; the others stay 0 (never updated).
        var userSeen = new bool[users];
        var itemSeen = new bool[items];
        for (int t = 0; t < n; t++) { userSeen[ratingUser[t]] = true; itemSeen[ratingItem[t]] = true; }
        for (int u = 0; u < users; u++)
            if (userSeen[u]) for (int f = 0; f < k; f++) mf._userFactors[u * k + f] = o.InitStd * rng.NextGaussian();
        for (int i = 0; i < items; i++)
            if (itemSeen[i]) for (int f = 0; f < k; f++) mf._itemFactors[i * k + f] = o.InitStd * rng.NextGaussian();

        var order = new int[n];
        for (int t = 0; t < n; t++) order[t] = t;
        double lr = o.LearningRate, reg = o.Regularization;
        for (int epoch = 0; epoch < o.Epochs; epoch++)
        {
            rng.Shuffle(order.AsSpan());
            foreach (int t in order)
            {
                int u = ratingUser[t], i = ratingItem[t];
                var pu = mf._userFactors.AsSpan(u * k, k);
                var qi = mf._itemFactors.AsSpan(i * k, k);
                double dot = 0;
                for (int f = 0; f < k; f++) dot += pu[f] * qi[f];
                double e = rating[t] - (mf.Mean + mf._userBias[u] + mf._itemBias[i] + dot);
                mf._userBias[u] += lr * (e - reg * mf._userBias[u]);
                mf._itemBias[i] += lr * (e - reg * mf._itemBias[i]);
                for (int f = 0; f < k; f++)
                {
                    double p = pu[f], q = qi[f];
                    pu[f] = p + lr * (e * q - reg * p);
                    qi[f] = q + lr * (e * p - reg * q);
                }
            }
        }
        return mf;
    }

    /// <summary>r̂ for a trained user.</summary>
    public double Predict(int user, int item)
    {
        var pu = _userFactors.AsSpan(user * _k, _k);
        var qi = _itemFactors.AsSpan(item * _k, _k);
        double dot = 0;
        for (int f = 0; f < _k; f++) dot += pu[f] * qi[f];
        return Mean + _userBias[user] + _itemBias[item] + dot;
    }

    /// <summary>
    /// r̂ for a user known only by some ratings (items and stars): b_u and p_u are fitted to them with the items fixed
    /// (<see cref="FoldIn"/>), then the candidate is scored. <paramref name="scratch"/> holds (k+1)² + (k+1) doubles.
    /// </summary>
    public double PredictFoldedIn(ReadOnlySpan<int> items, ReadOnlySpan<double> stars, int candidate, Span<double> scratch)
    {
        var w = FoldIn(items, stars, scratch);
        var qc = _itemFactors.AsSpan(candidate * _k, _k);
        double dot = 0;
        for (int f = 0; f < _k; f++) dot += w[f + 1] * qc[f];
        return Mean + w[0] + _itemBias[candidate] + dot;
    }

    /// <summary>
    /// The (b_u, p_u) minimizing Σ(r − μ − b_i − b_u − p_u·q_i)² + λ·n·(b_u² + |p_u|²) over the n given ratings: the
    /// normal equations (XᵀX + λnI)w = Xᵀy with rows x = (1, q_i), y = r − μ − b_i, solved by Cholesky. Returns a
    /// view of <paramref name="scratch"/> ((k+1)² + (k+1) doubles) holding w = (b_u, p_u).
    /// </summary>
    public Span<double> FoldIn(ReadOnlySpan<int> items, ReadOnlySpan<double> stars, Span<double> scratch)
    {
        int d = _k + 1, n = items.Length;
        var a = scratch[..(d * d)]; // [d, d] XᵀX + λnI (lower triangle)
        var b = scratch.Slice(d * d, d); // [d] Xᵀy, then w
        a.Clear();
        b.Clear();
        for (int t = 0; t < n; t++)
        {
            int i = items[t];
            var qi = _itemFactors.AsSpan(i * _k, _k);
            double y = stars[t] - Mean - _itemBias[i];
            for (int r = 0; r < d; r++)
            {
                double xr = r == 0 ? 1 : qi[r - 1];
                b[r] += xr * y;
                for (int c = 0; c <= r; c++) a[r * d + c] += xr * (c == 0 ? 1 : qi[c - 1]);
            }
        }
        double ridge = _reg * n;
        if (ridge == 0) ridge = 1e-9; // keeps a system with fewer ratings than unknowns solvable when λ = 0
        for (int r = 0; r < d; r++) a[r * d + r] += ridge;
        CholeskySolve(a, b, d);
        return b;
    }

    /// <summary>Item bias b_i.</summary>
    public double ItemBias(int item) => _itemBias[item];

    /// <summary>Item factors q_i.</summary>
    public ReadOnlySpan<double> ItemFactors(int item) => _itemFactors.AsSpan(item * _k, _k);

    /// <summary>Regularization λ.</summary>
    public double Regularization => _reg;

    // Solves A w = b in place for symmetric positive definite A (lower triangle filled); w replaces b.
    private static void CholeskySolve(Span<double> a, Span<double> b, int d)
    {
        for (int j = 0; j < d; j++)
        {
            double s = a[j * d + j];
            for (int p = 0; p < j; p++) s -= a[j * d + p] * a[j * d + p];
            double l = Math.Sqrt(s);
            a[j * d + j] = l;
            for (int i = j + 1; i < d; i++)
            {
                double t = a[i * d + j];
                for (int p = 0; p < j; p++) t -= a[i * d + p] * a[j * d + p];
                a[i * d + j] = t / l;
            }
        }
        for (int i = 0; i < d; i++)
        {
            double t = b[i];
            for (int p = 0; p < i; p++) t -= a[i * d + p] * b[p];
            b[i] = t / a[i * d + i];
        }
        for (int i = d - 1; i >= 0; i--)
        {
            double t = b[i];
            for (int p = i + 1; p < d; p++) t -= a[p * d + i] * b[p];
            b[i] = t / a[i * d + i];
        }
    }
}
