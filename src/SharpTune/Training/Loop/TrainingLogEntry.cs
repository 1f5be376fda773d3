using System.Globalization;
using System.Text.Json.Nodes;

namespace SharpTune.Training.Loop;

/// <summary>
/// One entry of the run's log history — a training log (<c>loss</c>, <c>grad_norm</c>, <c>learning_rate</c>,
/// <c>token_accuracy</c>, <c>entropy</c>), an evaluation (<c>eval_*</c>), or the final training metrics
/// (<c>train_*</c>) — with what LLaMA-Factory's <c>LogCallback</c> adds for trainer_log.jsonl.
/// </summary>
/// <param name="Step">global_step when it was logged.</param>
/// <param name="MaxSteps">Total updates of the run.</param>
/// <param name="Epoch">transformers' fractional epoch.</param>
/// <param name="Values">The logged values, transformers' keys (in the order they were added).</param>
/// <param name="ElapsedSeconds">Wall time since the run (or its resumption) started.</param>
/// <param name="RemainingSeconds">Estimated time left.</param>
/// <param name="TotalTokens">Unpadded input tokens seen so far.</param>
/// <param name="Throughput">Unpadded tokens per second since the run (or resumption) started.</param>
public sealed record TrainingLogEntry(long Step, long MaxSteps, double Epoch, IReadOnlyList<KeyValuePair<string, double>> Values,
    double ElapsedSeconds, double RemainingSeconds, long TotalTokens, double Throughput)
{
    /// <summary>The value logged under <paramref name="key"/>, or null.</summary>
    public double? this[string key] => Values.FirstOrDefault(kv => kv.Key == key) is { Key: not null } kv ? kv.Value : null;

    /// <summary>Whether this is an evaluation entry.</summary>
    public bool IsEvaluation => this["eval_loss"] is not null;

    /// <summary>transformers' <c>log_history</c> entry: the values, <c>epoch</c> and <c>step</c>.</summary>
    public JsonObject ToHistoryEntry()
    {
        var o = new JsonObject();
        foreach (var (k, v) in Values) o[k] = v;
        o["epoch"] = Epoch;
        o["step"] = Step;
        return o;
    }

    /// <summary>
    /// The trainer_log.jsonl line as LLaMA-Factory's <c>LogCallback.on_log</c> writes it — <c>current_steps</c>,
    /// <c>total_steps</c>, <c>loss</c>, <c>eval_loss</c>, <c>lr</c>, <c>epoch</c>, <c>percentage</c>,
    /// <c>elapsed_time</c>, <c>remaining_time</c>, <c>throughput</c>, <c>total_tokens</c> (absent values left out) —
    /// plus <c>token_accuracy</c>, <c>entropy</c>, <c>grad_norm</c> and every other <c>eval_*</c> / <c>train_*</c> value.
    /// </summary>
    public JsonObject ToTrainerLogLine()
    {
        var o = new JsonObject
        {
            ["current_steps"] = Step,
            ["total_steps"] = MaxSteps,
        };
        if (this["loss"] is double loss) o["loss"] = loss;
        if (this["eval_loss"] is double evalLoss) o["eval_loss"] = evalLoss;
        if (this["learning_rate"] is double lr) o["lr"] = lr;
        o["epoch"] = Epoch;
        o["percentage"] = MaxSteps != 0 ? Math.Round(Step * 100.0 / MaxSteps, 2) : 100;
        o["elapsed_time"] = FormatDuration(ElapsedSeconds);
        o["remaining_time"] = FormatDuration(RemainingSeconds);
        if (TotalTokens > 0)
        {
            o["throughput"] = Math.Round(Throughput, 2);
            o["total_tokens"] = TotalTokens;
        }
        foreach (var (k, v) in Values)
            if (k is not ("loss" or "eval_loss" or "learning_rate") && !o.ContainsKey(k)) o[k] = v;
        return o;
    }

    /// <summary>Python's <c>str(timedelta(seconds=int(s)))</c>: <c>H:MM:SS</c>, or <c>D day(s), H:MM:SS</c>.</summary>
    public static string FormatDuration(double seconds)
    {
        long s = double.IsFinite(seconds) && seconds > 0 ? (long)seconds : 0;
        long days = s / 86400, rest = s % 86400;
        string clock = string.Create(CultureInfo.InvariantCulture, $"{rest / 3600}:{rest / 60 % 60:D2}:{rest % 60:D2}");
        return days == 0 ? clock : $"{days} day{(days == 1 ? "" : "s")}, {clock}";
    }
}
