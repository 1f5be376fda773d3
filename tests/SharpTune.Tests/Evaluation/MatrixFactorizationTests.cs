using SharpTune.Numerics;
using SharpTune.Data;
using SharpTune.Evaluation;
using SharpTune.Evaluation.Baselines;

namespace SharpTune.Tests.Evaluation;

public class MatrixFactorizationTests
{
    private static (int[] U, int[] I, double[] R) LowRankRatings(int users, int items, int perUser, ulong seed)
    {
        var rng = new SplitMix64(seed);
        var uf = Enumerable.Range(0, users).Select(_ => new[] { rng.NextGaussian(), rng.NextGaussian() }).ToArray();
        var itf = Enumerable.Range(0, items).Select(_ => new[] { rng.NextGaussian(), rng.NextGaussian() }).ToArray();
        var u = new List<int>();
        var i = new List<int>();
        var r = new List<double>();
        for (int a = 0; a < users; a++)
            for (int t = 0; t < perUser; t++)
            {
                int b = rng.Next(items);
                u.Add(a);
                i.Add(b);
                r.Add(Math.Clamp(3.5 + 0.6 * (uf[a][0] * itf[b][0] + uf[a][1] * itf[b][1]) + 0.2 * rng.NextGaussian(), 0.5, 5));
            }
        return ([.. u], [.. i], [.. r]);
    }

    [Fact]
    public void TrainingFitsBetterThanTheMeanAndIsDeterministic()
    {
        var (u, i, r) = LowRankRatings(60, 40, 25, 1);
        var o = new MatrixFactorizationOptions { Factors = 4, Epochs = 40 };
        var mf = MatrixFactorization.Train(60, 41, u, i, r, o);
        double mean = r.Average(), mse = 0, baseline = 0;
        for (int t = 0; t < r.Length; t++)
        {
            mse += Math.Pow(r[t] - mf.Predict(u[t], i[t]), 2);
            baseline += Math.Pow(r[t] - mean, 2);
        }
        Assert.True(mse < 0.5 * baseline, $"train MSE {mse / r.Length} vs variance {baseline / r.Length}");
        var again = MatrixFactorization.Train(60, 41, u, i, r, o);
        for (int t = 0; t < 50; t++) Assert.Equal(mf.Predict(u[t], i[t]), again.Predict(u[t], i[t]));
        // item 40 has no rating: bias and factors stay 0
        Assert.Equal(0, mf.ItemBias(40));
        Assert.All(mf.ItemFactors(40).ToArray(), f => Assert.Equal(0, f));
    }

    [Fact]
    public void FoldInSolvesTheRidgeProblem()
    {
        var (u, i, r) = LowRankRatings(40, 30, 20, 2);
        var mf = MatrixFactorization.Train(40, 30, u, i, r, new MatrixFactorizationOptions { Factors = 3, Epochs = 10 });
        int[] items = [1, 5, 7, 7, 12, 29];
        double[] stars = [4.0, 2.5, 3.0, 3.5, 5.0, 1.0];
        var scratch = new double[4 * 4 + 4];
        var w = mf.FoldIn(items, stars, scratch).ToArray();
        // the gradient of Σ(r − μ − b_i − b_u − p·q_i)² + λn(b_u² + |p|²) vanishes at w
        double lambdaN = mf.Regularization * items.Length;
        var grad = new double[4];
        for (int t = 0; t < items.Length; t++)
        {
            var q = mf.ItemFactors(items[t]);
            double e = stars[t] - mf.Mean - mf.ItemBias(items[t]) - w[0] - (w[1] * q[0] + w[2] * q[1] + w[3] * q[2]);
            grad[0] -= 2 * e;
            for (int f = 0; f < 3; f++) grad[f + 1] -= 2 * e * q[f];
        }
        for (int j = 0; j < 4; j++) grad[j] += 2 * lambdaN * w[j];
        Assert.All(grad, g => Assert.True(Math.Abs(g) < 1e-10, $"gradient {g}"));
        Assert.True(Math.Abs(w[0]) > 1e-3); // not the trivial solution
        var q29 = mf.ItemFactors(29);
        Assert.Equal(mf.Mean + w[0] + mf.ItemBias(29) + w[1] * q29[0] + w[2] * q29[1] + w[3] * q29[2],
            mf.PredictFoldedIn(items, stars, 29, scratch), 12);
    }

    [Fact]
    public void ThresholdsMaximizeAccuracyAndTiesGoToTheSmallest()
    {
        // values 1..4; Yes for 3 and 4: t = 3 is perfect
        Assert.Equal((3.0, 1.0), ThresholdSelector.Best([1, 2, 3, 4], [false, false, true, true]));
        // t = 2 and t = 4 both give 3/4 right: the smallest wins
        Assert.Equal((2.0, 0.75), ThresholdSelector.Best([1, 2, 3, 4], [false, true, false, true]));
        // ties in the values are one candidate: with t = 2 both 2s are Yes
        Assert.Equal((2.0, 0.8), ThresholdSelector.Best([2, 1, 2, 3, 1], [true, false, false, true, false]));
        // all Yes: the smallest value (everything predicted Yes)
        Assert.Equal((5.0, 1.0), ThresholdSelector.Best([7, 5, 9], [true, true, true]));
    }
}
