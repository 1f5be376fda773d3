namespace SharpTune.Evaluation.Sanity;

/// <summary>One reply, scored.</summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="Reply">The checkpoint's reply.</param>
/// <param name="FailedChecks">Labels of the checks it failed (empty: it passed).</param>
public sealed record SanityReply(SanityPrompt Prompt, string Reply, IReadOnlyList<string> FailedChecks)
{
    /// <summary>True when every check of the group passed.</summary>
    public bool Passed => FailedChecks.Count == 0;
}

/// <summary>One checkpoint's scores.</summary>
/// <param name="Checkpoint">The checkpoint.</param>
/// <param name="GroupPassRates">Per group (file order): the fraction of its prompts whose reply passed every check.</param>
/// <param name="Total">Σ weight·pass rate / Σ weight, in [0, 1].</param>
/// <param name="Replies">Every reply, scored, in prompt order.</param>
public sealed record SanityCheckpointScore(SanityCheckpoint Checkpoint, IReadOnlyList<double> GroupPassRates, double Total, IReadOnlyList<SanityReply> Replies);

/// <summary>Asks each checkpoint every prompt through an <see cref="ISanityResponder"/> and scores the replies.</summary>
public static class SanityScorer
{
    /// <summary>Scores every checkpoint, in the given order.</summary>
    public static SanityReport Score(SanityRules rules, IReadOnlyList<SanityCheckpoint> checkpoints, ISanityResponder responder, TextWriter? progress = null)
    {
        if (checkpoints.Count == 0) throw new UserException("no checkpoints to score");
        var prompts = rules.AllPrompts.ToArray();
        var scores = new List<SanityCheckpointScore>();
        foreach (var checkpoint in checkpoints)
        {
            progress?.WriteLine($"sanity: {checkpoint.Name} ({prompts.Length} prompts)");
            var replies = responder.Answer(checkpoint, prompts);
            if (replies.Count != prompts.Length)
                throw new InvalidOperationException($"the responder gave {replies.Count} replies for {prompts.Length} prompts ({checkpoint.Name})");
            scores.Add(ScoreReplies(rules, checkpoint, replies));
        }
        return new SanityReport(rules, scores);
    }

    /// <summary>Scores one checkpoint's replies (one per prompt of <see cref="SanityRules.AllPrompts"/>, in order).</summary>
    public static SanityCheckpointScore ScoreReplies(SanityRules rules, SanityCheckpoint checkpoint, IReadOnlyList<string> replies)
    {
        var scored = new List<SanityReply>();
        var rates = new double[rules.Groups.Count];
        int k = 0;
        double weighted = 0, weights = 0;
        for (int g = 0; g < rules.Groups.Count; g++)
        {
            var group = rules.Groups[g];
            int passed = 0;
            foreach (var prompt in group.Prompts)
            {
                var reply = new SanityReply(prompt, replies[k], group.FailedChecks(replies[k]));
                k++;
                if (reply.Passed) passed++;
                scored.Add(reply);
            }
            rates[g] = (double)passed / group.Prompts.Count;
            weighted += group.Weight * rates[g];
            weights += group.Weight;
        }
        return new SanityCheckpointScore(checkpoint, rates, weighted / weights, scored);
    }
}
