using System.Diagnostics;

namespace SharpTune.Bench;

/// <summary>
/// How many cores other processes used during a window (machine busy time from /proc/stat minus this process's
/// CPU time), as the PyTorch peer's common.py measures it, so both sides of a comparison are timed on a quiet
/// machine or say that they were not.
/// </summary>
internal sealed class CpuMonitor
{
    private static readonly double Tick = 100.0; // USER_HZ on Linux
    private readonly long _t0 = Stopwatch.GetTimestamp();
    private readonly double _busy0 = MachineBusySeconds();
    private readonly double _self0 = SelfSeconds();

    /// <summary>Average cores used by other processes since construction.</summary>
    public double OthersCores()
    {
        double wall = Stopwatch.GetElapsedTime(_t0).TotalSeconds;
        double busy = MachineBusySeconds() - _busy0, self = SelfSeconds() - _self0;
        return wall > 0 ? Math.Max(0, busy - self) / wall : 0;
    }

    private static double MachineBusySeconds()
    {
        var parts = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
        return (parts.Sum() - parts[3] - parts[4]) / Tick;
    }

    private static double SelfSeconds()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>Waits until other processes use under 0.1 core over 2 s, at most BENCH_MAX_WAIT seconds (default 60); returns their last usage.</summary>
    public static double WaitForQuiet()
    {
        double maxWait = double.TryParse(Environment.GetEnvironmentVariable("BENCH_MAX_WAIT"), System.Globalization.CultureInfo.InvariantCulture, out var m) ? m : 60;
        var start = Stopwatch.StartNew();
        while (true)
        {
            var mon = new CpuMonitor();
            Thread.Sleep(2000);
            double others = mon.OthersCores();
            if (others < 0.1 || start.Elapsed.TotalSeconds > maxWait) return others;
        }
    }

    /// <summary>Runs <paramref name="measure"/> on a quiet machine when possible: up to 3 attempts, keeping the first with others under 0.1 core (else the last).</summary>
    public static (T Result, double Others) Quiet<T>(Func<T> measure)
    {
        (T, double) last = default;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            WaitForQuiet();
            var mon = new CpuMonitor();
            var r = measure();
            last = (r, mon.OthersCores());
            if (last.Item2 <= 0.1) break;
        }
        return last;
    }
}
