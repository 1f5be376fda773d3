namespace SharpTune.Evaluation.Sanity;

/// <summary>One prompt of a group: the user message and an optional system message.</summary>
/// <param name="Group">The group's name.</param>
/// <param name="Index">Position within the group (0-based).</param>
/// <param name="Text">The user message.</param>
/// <param name="System">The system message, or null for none.</param>
public sealed record SanityPrompt(string Group, int Index, string Text, string? System);

/// <summary>A named group of prompts, the checks every reply to them must pass, and the group's weight in the total.</summary>
public sealed class SanityGroup
{
    /// <summary>The group's name (unique in the file).</summary>
    public required string Name { get; init; }

    /// <summary>Weight in the weighted total (&gt; 0).</summary>
    public required double Weight { get; init; }

    /// <summary>The prompts (at least one).</summary>
    public required IReadOnlyList<SanityPrompt> Prompts { get; init; }

    /// <summary>The checks (at least one); a reply passes the group when it passes all of them.</summary>
    public required IReadOnlyList<SanityCheck> Checks { get; init; }

    /// <summary>The labels of the checks <paramref name="reply"/> fails, in file order.</summary>
    public IReadOnlyList<string> FailedChecks(string reply) => Checks.Where(c => !c.Passes(reply)).Select(c => c.Label).ToArray();
}

/// <summary>A parsed rules file: named phrase lists and weighted prompt groups. See <see cref="SanityRulesLoader"/> for the YAML.</summary>
public sealed class SanityRules
{
    /// <summary>Where the rules came from (a path, for messages).</summary>
    public required string Source { get; init; }

    /// <summary>Named phrase lists that checks refer to by name.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Phrases { get; init; }

    /// <summary>The groups, in file order.</summary>
    public required IReadOnlyList<SanityGroup> Groups { get; init; }

    /// <summary>Every prompt of every group, in file order.</summary>
    public IEnumerable<SanityPrompt> AllPrompts => Groups.SelectMany(g => g.Prompts);
}
