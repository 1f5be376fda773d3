namespace SharpTune.Text.Jinja;

/// <summary>
/// Bounds on what one render may do, so that an untrusted template cannot hang or exhaust memory. Each exceeded
/// limit raises <see cref="JinjaLimitException"/> naming the limit.
/// </summary>
public sealed record SandboxLimits
{
    /// <summary>The defaults: generous for any real chat template, small enough to stop runaway ones quickly.</summary>
    public static SandboxLimits Default { get; } = new();

    /// <summary>Total loop iterations per render, over all loops (default 1,000,000).</summary>
    public int MaxLoopIterations { get; init; } = 1_000_000;

    /// <summary>Nesting depth of macro calls and of the evaluated syntax tree (default 200).</summary>
    public int MaxRecursionDepth { get; init; } = 200;

    /// <summary>Characters in the rendered text, and in any single string or list the template builds (default 16 Mi).</summary>
    public int MaxOutputChars { get; init; } = 16 * 1024 * 1024;

    /// <summary>Wall-clock time per render (default 10 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest <c>range()</c>, as in jinja2's sandbox (100,000).</summary>
    public int MaxRange { get; init; } = 100_000;
}
