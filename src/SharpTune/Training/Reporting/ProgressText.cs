using System.Globalization;
using System.Text;

namespace SharpTune.Training.Reporting;

/// <summary>
/// The text of training progress: one plain line per event for logs and pipes (invariant culture, <c>key=value</c>
/// fields), and the number formats the live display shares with it.
/// </summary>
public static class ProgressText
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>A duration as Python's <c>str(timedelta(seconds=int(s)))</c> writes it, as LLaMA-Factory logs <c>elapsed_time</c>: <c>0:05:07</c>, <c>1 day, 2:03:04</c>.</summary>
    public static string Timedelta(TimeSpan t)
    {
        long s = (long)Math.Floor(Math.Max(0, t.TotalSeconds));
        long days = s / 86400, rest = s % 86400;
        var hms = string.Create(C, $"{rest / 3600}:{rest % 3600 / 60:00}:{rest % 60:00}");
        return days == 0 ? hms : string.Create(C, $"{days} day{(days == 1 ? "" : "s")}, {hms}");
    }

    /// <summary>A learning rate as <c>5.00e-05</c> (Python's <c>{:.2e}</c>).</summary>
    public static string LearningRate(double lr) => lr.ToString("0.00e+00", C);

    /// <summary>A loss, accuracy or entropy with four decimals.</summary>
    public static string Metric(double v) => v.ToString("0.0000", C);

    /// <summary>
    /// Time left, from the pace of this process's steps: (total − step) × elapsed / (step − start step). Null before the
    /// first step (no pace yet).
    /// </summary>
    public static TimeSpan? Remaining(long startStep, long step, long totalSteps, TimeSpan elapsed)
    {
        long done = step - startStep;
        if (done <= 0) return null;
        return TimeSpan.FromSeconds(elapsed.TotalSeconds / done * Math.Max(0, totalSteps - step));
    }

    /// <summary>The plain line for one event (metrics named as in the log, see <see cref="LogKeys"/>); <paramref name="startStep"/> is where this process started (for the time left).</summary>
    public static string PlainLine(TrainingEvent e, long startStep) => e switch
    {
        TrainingStarted s => s.Step == 0
            ? string.Create(C, $"train: {s.TotalSteps} steps, {Epochs(s.TotalEpochs)}, output {s.OutputDir}")
            : string.Create(C, $"train: resuming at step {s.Step} of {s.TotalSteps} ({Epochs(s.TotalEpochs)}), output {s.OutputDir}"),
        StepLogged l => StepLine(l, startStep),
        EvaluationCompleted v => EvalLine(v),
        CheckpointSaved c => string.Create(C, $"checkpoint step={c.Step} path={c.Path} reason={c.Reason}{(c.Seconds is double s ? $" seconds={s:0.000}" : "")}"),
        TrainingWarning w => $"warning: {w.Message}",
        TrainingFinished f => string.Create(C, $"finished step={f.Step} reason={f.Reason} elapsed={Timedelta(f.Elapsed)}")
            + (f.TrainLoss is { } tl ? $" train_loss={Metric(tl)}" : ""),
        _ => e.ToString(),
    };

    private static string Epochs(double n) => string.Create(C, $"{n:0.##} epoch{(n == 1 ? "" : "s")}");

    private static string StepLine(StepLogged l, long startStep)
    {
        var sb = new StringBuilder();
        sb.Append(C, $"step={l.Step}/{l.TotalSteps} epoch={l.Epoch:0.00} loss={Metric(l.Loss)}");
        if (l.TokenAccuracy is { } a) sb.Append(" token_accuracy=").Append(Metric(a));
        if (l.Entropy is { } h) sb.Append(" entropy=").Append(Metric(h));
        sb.Append(" lr=").Append(LearningRate(l.LearningRate));
        if (l.GradNorm is { } g) sb.Append(" grad_norm=").Append(Metric(g));
        sb.Append(C, $" tokens_per_s={l.TokensPerSecond:0.0} elapsed={Timedelta(l.Elapsed)}");
        if (Remaining(startStep, l.Step, l.TotalSteps, l.Elapsed) is { } r) sb.Append(" remaining=").Append(Timedelta(r));
        return sb.ToString();
    }

    private static string EvalLine(EvaluationCompleted v)
    {
        var sb = new StringBuilder();
        sb.Append(C, $"eval step={v.Step} epoch={v.Epoch:0.00} eval_loss={Metric(v.Loss)}");
        if (v.TokenAccuracy is { } a) sb.Append(" eval_token_accuracy=").Append(Metric(a));
        if (v.Entropy is { } h) sb.Append(" eval_entropy=").Append(Metric(h));
        if (v.FirstAnswerTokenAccuracy is { } f) sb.Append(' ').Append(LogKeys.EvalFirstAnswerTokenAccuracy).Append('=').Append(Metric(f));
        if (v.Generative is { } g)
        {
            sb.Append(' ').Append(LogKeys.EvalGenerativeAccuracy).Append('=').Append(Metric(g.Accuracy));
            if (g.MacroF1 is { } f1) sb.Append(' ').Append(LogKeys.EvalGenerativeF1).Append('=').Append(Metric(f1));
            sb.Append(' ').Append(LogKeys.EvalGenerativeUnparseableRate).Append('=').Append(Metric(g.UnparseableRate)).Append(C, $" eval_gen_samples={g.Samples}");
        }
        sb.Append(" time=").Append(Timedelta(v.Duration));
        return sb.ToString();
    }
}
