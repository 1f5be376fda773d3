using SharpTune.Tests.Support;

namespace SharpTune.Tests.Training;

/// <summary>
/// Proves the PyTorch training oracle (tests/oracles/python/reference_train.py) before any C# training step is
/// compared with it: its self-check (reference_train_selfcheck.py) verifies, on tiny random Qwen3, Qwen2, Llama and
/// Mistral models, the LoRA loss against reference_model.py's forward, autograd against float64 finite differences,
/// the gradient-accumulation rule, the AdamW / schedule / clipping wiring and the stdin/stdout protocol.
/// </summary>
public sealed class ReferenceTrainerSelfCheckTests
{
    private const string Python = "/usr/bin/python3";

    private static bool TorchAvailable() =>
        File.Exists(Python) && ProcessRunner.Run(Python, ["-c", "import torch, numpy"]).Code == 0;

    [Fact]
    public void Reference_trainer_self_check_passes()
    {
        TestEnvironment.RequireOracle(TorchAvailable(), "/usr/bin/python3 with torch and numpy (python3-torch)");
        string script = Path.Combine(TestEnvironment.RepoRoot, "tests", "oracles", "python", "reference_train_selfcheck.py");
        var (code, stdout, stderr) = ProcessRunner.Run(Python, [script], timeoutMs: 300_000);
        Assert.True(code == 0, $"reference_train_selfcheck.py exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        Assert.Contains("checks passed", stdout);
    }
}
