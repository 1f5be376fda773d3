using System.Diagnostics;

namespace SharpTune.Tests.Support;

/// <summary>Runs an external program (an oracle script) and captures its output.</summary>
public static class ProcessRunner
{
    /// <summary>Runs <paramref name="file"/> with arguments, feeding <paramref name="stdin"/>; returns exit code and output.</summary>
    public static (int Code, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, string? stdin = null, string? workingDirectory = null, IDictionary<string, string>? env = null, int timeoutMs = 600_000)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? TestEnvironment.RepoRoot,
            StandardOutputEncoding = new System.Text.UTF8Encoding(false),
            StandardErrorEncoding = new System.Text.UTF8Encoding(false),
            StandardInputEncoding = new System.Text.UTF8Encoding(false),
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in {timeoutMs} ms");
        }
        return (p.ExitCode, outTask.Result, errTask.Result);
    }

    /// <summary>Whether a program is on PATH (or is an existing path).</summary>
    public static bool Exists(string file)
    {
        if (file.Contains('/')) return File.Exists(file);
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(':').Any(d => d.Length > 0 && File.Exists(System.IO.Path.Combine(d, file)));
    }
}
