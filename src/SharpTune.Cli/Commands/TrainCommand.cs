using System.Globalization;
using System.Runtime.InteropServices;
using SharpTune.Cli.CommandLine;
using SharpTune.Cli.Display;
using SharpTune.Training.Configuration;
using SharpTune.Training.Loop;
using SharpTune.Training.Reporting;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune train CONFIG.yaml [key=value ...] [--print-config]</c>: LLaMA-Factory-style training runs.</summary>
internal static class TrainCommand
{
    /// <summary>Exit code after SIGINT (128 + 2), as a shell reports it.</summary>
    public const int InterruptedExit = 130;

    /// <summary>Exit code after SIGTERM (128 + 15).</summary>
    public const int TerminatedExit = 143;

    public static CliCommand Create() =>
        new CliCommand("train", "Fine-tune a model as a LLaMA-Factory YAML configuration describes (key=value arguments override the file).")
        {
            Description =
                "CONFIG.yaml holds LLaMA-Factory's keys (model_name_or_path, dataset, template, finetuning_type, learning_rate, ...);\n" +
                "each key=value argument overrides the file's value, typed as the file's would be (learning_rate=5e-5).\n" +
                "--print-config prints every key with its value and where it came from (file:line, override, default) and exits.\n" +
                "Writes checkpoint-N folders, trainer_log.jsonl, trainer_state.json, *_results.json and the final adapter or model\n" +
                "into output_dir. SIGINT/SIGTERM finish the current step, write a checkpoint and exit 130/143; a second SIGINT exits at once.",
        }
            .Argument("config", "the YAML configuration file")
            .Argument("overrides", "key=value overrides", required: false, variadic: true)
            .Flag("print-config", "print the resolved configuration and exit")
            .Option("cache-dir", "Preprocessing cache folder.", "DIR", TrainingJob.DefaultCacheDir)
            .Handle(Run);

    private static int Run(ParsedArgs a)
    {
        var config = TrainConfig.Load(a.Positionals[0], a.Positionals.Skip(1));
        if (a.Has("print-config"))
        {
            a.Out.Write(config.Describe());
            return CliApp.Success;
        }

        using var cancel = new CancellationTokenSource();
        int signal = 0;
        void OnSignal(PosixSignalContext ctx, int code)
        {
            ctx.Cancel = true; // the process stays alive to finish the step and checkpoint
            if (Interlocked.CompareExchange(ref signal, code, 0) != 0)
            {
                // A second signal: exit now, removing the unfinished outputs (a checkpoint being written is a
                // temporary folder renamed only when complete, so the last complete one stays loadable). On a thread
                // of its own: exiting from inside the runtime's signal callback can deadlock.
                if (ctx.Signal == PosixSignal.SIGINT)
                    new Thread(() =>
                    {
                        var (removed, kept) = SharpTune.IO.TemporaryOutputs.AbandonAll();
                        a.Error.WriteLine(CliApp.InterruptLine("SIGINT", removed, kept));
                        a.Error.Flush();
                        Environment.Exit(InterruptedExit);
                    }) { IsBackground = false, Name = "sharptune-interrupt" }.Start();
                return;
            }
            a.Error.WriteLine($"{(code == InterruptedExit ? "SIGINT" : "SIGTERM")}: finishing the current step and writing a checkpoint (SIGINT again to exit at once)");
            a.Error.Flush();
            cancel.Cancel();
        }
        // The handlers are armed once preprocessing is done and the loop is about to start (before that, a signal ends the process).
        IDisposable ArmSignals() => new Registrations(
            PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => OnSignal(ctx, InterruptedExit)),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => OnSignal(ctx, TerminatedExit)));

        var result = Execute(config, a.RequiredString("cache-dir"), a.Out, a.Error, cancel.Token, ArmSignals);
        return result.Reason == TrainingStopReason.Cancelled ? (signal == 0 ? InterruptedExit : signal) : CliApp.Success;
    }

    private sealed class Registrations(params IDisposable[] items) : IDisposable
    {
        public void Dispose() { foreach (var i in items) i.Dispose(); }
    }

    /// <summary>
    /// What <c>sharptune train CONFIG.yaml</c> runs, shared with <c>sharptune demo</c>: <see cref="TrainingJob.Prepare"/>
    /// (datasets through the preprocessing cache in <paramref name="cacheDir"/>), the progress display on
    /// <paramref name="output"/>, the loop, the plots with <c>plot_loss</c>, and one line saying how the run ended.
    /// </summary>
    /// <param name="armSignals">Called right before the loop starts; what it returns is disposed when this returns (train's signal handlers).</param>
    internal static TrainingRunResult Execute(TrainConfig config, string cacheDir, TextWriter output, TextWriter error, CancellationToken cancellation,
        Func<IDisposable?>? armSignals = null)
    {
        if (config.IgnoredKeys.Count > 0)
            output.WriteLine($"ignored (no effect on the run here): {string.Join(", ", config.IgnoredKeys.Select(k => k.Name))}");

        using var progress = TrainingProgress.ForStdout(output);
        var observers = new List<SharpTune.Training.Loop.ITrainingObserver>();
        using var job = TrainingJob.Prepare(config, observers, cacheDir, m => error.WriteLine(m));
        observers.Add(new ReportingBridge(progress, config.OutputDir, job.Run.Plan.Epochs));
        foreach (var s in job.Splits)
        {
            var r = s.Result.Report;
            output.WriteLine($"{s.Split}: {r.Kept:N0} samples of {r.Records:N0} records ({r.Truncated} truncated, {r.Dropped} dropped){(s.Result.FromCache ? " from the cache" : "")}: {s.Result.EntryPath}");
        }
        var plan = job.Run.Plan;
        output.WriteLine($"training {plan.MaxSteps} steps ({(job.Model.Lora is { } l ? $"LoRA r{l.Rank}" : "full")}, {job.Model.Parameters.Sum(p => p.Count):N0} trainable parameters) into {config.OutputDir}");
        output.Flush();

        using var armed = armSignals?.Invoke(); // until the run's last line is printed, as before
        var result = job.Run.Run(cancellation);
        if (config.PlotLoss && result.Reason != TrainingStopReason.Cancelled)
        {
            // The bands drawn are the thresholds this run watched, not the defaults.
            var plots = LossPlotter.PlotRun(config.OutputDir, settings: new PlotSettings { Overfit = config.Overfit.Thresholds });
            foreach (var n in plots.Notes) error.WriteLine($"plot: {n}");
            if (plots.Files.Count > 0) output.WriteLine($"plots: {string.Join(", ", plots.Files.Select(f => Path.GetFileName(f.PngPath)))}");
        }
        if (result.Memory is { } memory) output.WriteLine(memory.Line());
        string kept = result.LastCheckpoint is { } c ? $"kept {c}" : "no checkpoint was written (no step finished)";
        switch (result.Reason)
        {
            case TrainingStopReason.Cancelled:
                error.WriteLine($"interrupted at step {result.GlobalStep}/{result.MaxSteps}: {kept}; continue with resume_from_checkpoint=true");
                break;
            case TrainingStopReason.TimeBudget:
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"the time budget (max_time {config.MaxTime!.Value.TotalSeconds:0.#} s) ended the run at step {result.GlobalStep}/{result.MaxSteps}: {kept}; final weights in {result.OutputDir}"));
                break;
            case TrainingStopReason.Overfitting:
                output.WriteLine($"stop_on_overfit ended the run at step {result.GlobalStep}/{result.MaxSteps}: {kept}; final weights in {result.OutputDir}");
                break;
            default:
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"trained {result.GlobalStep} steps (train loss {result.TrainLoss:F4}); final {(job.Model.Lora is null ? "model" : "adapter")} in {result.OutputDir}"));
                break;
        }
        return result;
    }
}
