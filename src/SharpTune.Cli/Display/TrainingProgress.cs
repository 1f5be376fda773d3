using System.Diagnostics;
using System.Globalization;
using SharpTune.Training.Reporting;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace SharpTune.Cli.Display;

/// <summary>
/// Shows a training run's progress. On a terminal: a live view (progress bar, step/total, epoch, loss, token
/// accuracy, entropy, learning rate, tokens/s, elapsed and remaining time, the last evaluation, the last checkpoint
/// and every warning) redrawn in place. Otherwise (a pipe or a file): one plain line per event
/// (<see cref="ProgressText.PlainLine"/>), flushed at once so <c>tail -f</c> follows the run.
/// Fed by the training loop as an <see cref="ITrainingObserver"/>; dispose it when the run ends.
/// </summary>
public abstract class TrainingProgress : ITrainingObserver, IDisposable
{
    /// <summary>
    /// The display for <paramref name="stdout"/>: live when the process's standard output is an interactive terminal
    /// that Spectre.Console can drive, plain lines otherwise.
    /// </summary>
    public static TrainingProgress ForStdout(TextWriter stdout)
    {
        if (!Console.IsOutputRedirected)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(new FlushingWriter(stdout)),
                Ansi = AnsiSupport.Detect,
                ColorSystem = ColorSystemSupport.Detect,
                Interactive = InteractionSupport.Detect,
            });
            if (console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi) return new Live(console);
        }
        return new Plain(stdout);
    }

    /// <summary>Plain lines on <paramref name="writer"/>.</summary>
    public static TrainingProgress PlainLines(TextWriter writer) => new Plain(writer);

    /// <summary>A live view drawn on <paramref name="console"/>.</summary>
    public static TrainingProgress LiveView(IAnsiConsole console) => new Live(console);

    /// <inheritdoc />
    public abstract void OnEvent(TrainingEvent e);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Stops the display (the live view keeps its last frame on screen).</summary>
    protected virtual void Dispose(bool disposing) { }

    private sealed class Plain(TextWriter writer) : TrainingProgress
    {
        private long _startStep;

        public override void OnEvent(TrainingEvent e)
        {
            if (e is TrainingStarted s) _startStep = s.Step;
            writer.WriteLine(ProgressText.PlainLine(e, _startStep));
            writer.Flush();
        }
    }

    private sealed class Live : TrainingProgress
    {
        private readonly IAnsiConsole _console;
        private readonly ProgressView _view = new();
        private readonly Lock _gate = new();
        private readonly SemaphoreSlim _changed = new(0);
        private Thread? _thread;
        private volatile bool _done;

        public Live(IAnsiConsole console) => _console = console;

        public override void OnEvent(TrainingEvent e)
        {
            lock (_gate) _view.Apply(e);
            if (_thread is null && !_done)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "training progress" };
                _thread.Start();
            }
            if (e is TrainingFinished) Stop();
            else _changed.Release();
        }

        private void Run()
        {
            IRenderable Frame() { lock (_gate) return _view.Render(); }
            _console.Live(Frame()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).Start(ctx =>
            {
                while (!_done)
                {
                    _changed.Wait(TimeSpan.FromMilliseconds(500)); // redraw on events, and twice a second for the clock
                    ctx.UpdateTarget(Frame());
                }
                ctx.UpdateTarget(Frame());
            });
        }

        private void Stop()
        {
            _done = true;
            _changed.Release();
            _thread?.Join();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Stop();
                _changed.Dispose();
            }
        }
    }

    /// <summary>A writer that flushes after every write, so the live view reaches the terminal while the run goes on.</summary>
    private sealed class FlushingWriter(TextWriter inner) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void Write(char value) { inner.Write(value); inner.Flush(); }

        public override void Write(string? value) { inner.Write(value); inner.Flush(); }

        public override void Write(char[] buffer, int index, int count) { inner.Write(buffer, index, count); inner.Flush(); }

        public override void Flush() => inner.Flush();
    }
}

/// <summary>The state of the live view, updated from events; <see cref="Render"/> draws one frame.</summary>
internal sealed class ProgressView
{
    private readonly Stopwatch _sinceLastLog = new();
    private readonly List<string> _warnings = [];
    private TrainingStarted? _start;
    private StepLogged? _last;
    private EvaluationCompleted? _eval;
    private CheckpointSaved? _checkpoint;
    private TrainingFinished? _finished;

    /// <summary>Takes one event into the state.</summary>
    public void Apply(TrainingEvent e)
    {
        switch (e)
        {
            case TrainingStarted s: _start = s; _sinceLastLog.Restart(); break;
            case StepLogged l: _last = l; _sinceLastLog.Restart(); break;
            case EvaluationCompleted v: _eval = v; break;
            case CheckpointSaved c: _checkpoint = c; break;
            case TrainingWarning w: _warnings.Add(w.Message); break;
            case TrainingFinished f: _finished = f; _sinceLastLog.Stop(); break;
        }
    }

    /// <summary>One frame: the bar line, the metrics table, then the last evaluation, checkpoint and the warnings.</summary>
    public IRenderable Render()
    {
        var c = CultureInfo.InvariantCulture;
        long total = _last?.TotalSteps ?? _start?.TotalSteps ?? 0, step = _finished?.Step ?? _last?.Step ?? _start?.Step ?? 0;
        long startStep = _start?.Step ?? 0;
        double fraction = total > 0 ? Math.Clamp((double)step / total, 0, 1) : 0;
        var elapsed = _finished?.Elapsed ?? (_last?.Elapsed ?? TimeSpan.Zero) + _sinceLastLog.Elapsed;
        var remaining = _finished is not null ? TimeSpan.Zero : ProgressText.Remaining(startStep, step, total, elapsed);

        const int width = 40;
        int filled = (int)Math.Round(fraction * width);
        var bar = $"[green]{new string('━', filled)}[/][grey]{new string('━', width - filled)}[/]";
        var head = string.Create(c, $"{bar} {fraction * 100,5:0.0}%  step [bold]{step}[/]/{total}");
        if (_last is not null) head += string.Create(c, $"  epoch {_last.Epoch:0.00}");

        var table = new Table().Border(TableBorder.Rounded);
        foreach (var col in (string[])["loss", "token acc", "entropy", "lr", "tokens/s", "elapsed", "remaining"])
            table.AddColumn(new TableColumn(col).RightAligned());
        static string Opt(double? v) => v is { } x ? ProgressText.Metric(x) : "–";
        table.AddRow(
            _last is null ? "–" : ProgressText.Metric(_last.Loss),
            Opt(_last?.TokenAccuracy),
            Opt(_last?.Entropy),
            _last is null ? "–" : ProgressText.LearningRate(_last.LearningRate),
            _last is null ? "–" : _last.TokensPerSecond.ToString("0", c),
            ProgressText.Timedelta(elapsed),
            remaining is { } r ? ProgressText.Timedelta(r) : "–");

        var rows = new List<IRenderable> { new Markup(head), table };
        if (_eval is { } v)
        {
            var text = string.Create(c, $"eval @ step {v.Step}: loss {ProgressText.Metric(v.Loss)}");
            if (v.TokenAccuracy is { } a) text += $" · token acc {ProgressText.Metric(a)}";
            if (v.FirstAnswerTokenAccuracy is { } f) text += $" · first answer token acc {ProgressText.Metric(f)}";
            if (v.Generative is { } g) text += string.Create(c, $" · generative acc {ProgressText.Metric(g.Accuracy)} (n={g.Samples}, unparseable {g.UnparseableRate:0.0%})");
            rows.Add(new Markup(Markup.Escape(text)));
        }
        if (_checkpoint is { } k) rows.Add(new Markup(Markup.Escape($"checkpoint: {k.Path} (step {k.Step}, {k.Reason}{(k.Seconds is double s ? string.Create(c, $", written in {s:0.00} s") : "")})")));
        foreach (var w in _warnings) rows.Add(new Markup("[yellow]warning:[/] " + Markup.Escape(w)));
        if (_finished is { } fin) rows.Add(new Markup(Markup.Escape($"finished: {fin.Reason}")));
        return new Rows(rows);
    }
}
