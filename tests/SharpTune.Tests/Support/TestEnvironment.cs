namespace SharpTune.Tests.Support;

/// <summary>
/// Where tests find the repository, shared data and the reference oracles, and whether a missing oracle may skip.
/// The test script (test.sh) sets SHARPTUNE_REQUIRE_ORACLES=1, so in CI an absent oracle is a failure, not a skip.
/// </summary>
public static class TestEnvironment
{
    /// <summary>The repository root (the folder holding SharpTune.slnx).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>../shared next to the repository, where MovieLens and the tiny Llama live (may be absent).</summary>
    public static string SharedDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>True when the test script demands that every oracle be present.</summary>
    public static bool OraclesRequired => Environment.GetEnvironmentVariable("SHARPTUNE_REQUIRE_ORACLES") == "1";

    /// <summary>
    /// Skips the test when an oracle is missing during a plain <c>dotnet test</c>; fails it when the test script
    /// runs (the script installs every oracle, so absence there is a real failure).
    /// </summary>
    public static void RequireOracle(bool present, string what)
    {
        if (present) return;
        if (OraclesRequired) Assert.Fail($"oracle missing: {what} (test.sh installs it; see tests/setup/)");
        Assert.Skip($"oracle missing: {what}; run ./test.sh to install it");
    }

    /// <summary>Skips when a shared data folder is absent (the suite must pass without ../shared).</summary>
    public static string RequireShared(string relative)
    {
        var path = Path.Combine(SharedDir, relative);
        if (!File.Exists(path) && !Directory.Exists(path)) Assert.Skip($"shared data absent: {path}");
        return path;
    }

    /// <summary>A fresh empty temporary directory, removed when the returned handle is disposed.</summary>
    public static TempDir TempDir() => new();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SharpTune.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (SharpTune.slnx) not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary directory deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    /// <summary>Creates it.</summary>
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sharptune-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>A path inside it.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc />
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
