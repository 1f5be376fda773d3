using SharpTune.Data.MovieLens;

namespace SharpTune.Evaluation.Baselines;

/// <summary>
/// The samples of one split of a rebuilt MovieLens dataset, in the order prepare movielens writes them (users by
/// userId, then time): each sample's user, its candidate's timeline position (its history is the
/// <c>HistoryLength</c> positions before) and its label.
/// </summary>
internal sealed class MovieLensSamples
{
    private MovieLensSamples(int[] users, int[] targets, bool[] yes)
    {
        Users = users;
        Targets = targets;
        Yes = yes;
    }

    /// <summary>Timeline user index of each sample.</summary>
    public int[] Users { get; }

    /// <summary>Timeline position of each sample's candidate rating.</summary>
    public int[] Targets { get; }

    /// <summary>Whether each sample is labelled Yes.</summary>
    public bool[] Yes { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Targets.Length;

    /// <summary>The samples of <paramref name="split"/>.</summary>
    public static MovieLensSamples Of(PreparedMovieLens prepared, DatasetSplit split)
    {
        var (timelines, plan) = (prepared.Data.Timelines, prepared.Data.Plan);
        int h = prepared.Options.HistoryLength, threshold = prepared.Options.ThresholdTenths;
        var users = new List<int>();
        var targets = new List<int>();
        var yes = new List<bool>();
        for (int u = 0; u < timelines.UserCount; u++)
            for (int j = 0; j < plan.SampleCount[u]; j++)
            {
                if (plan.SplitOf(u, j) != split) continue;
                int target = timelines.Offsets[u] + h + j;
                users.Add(u);
                targets.Add(target);
                yes.Add(timelines.Tenths[target] >= threshold);
            }
        return new MovieLensSamples([.. users], [.. targets], [.. yes]);
    }
}
