namespace SharpTune.IO;

/// <summary>This process's memory use, as Linux reports it.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size in MiB (VmHWM of /proc/self/status); NaN where that file does not exist.</summary>
    public static double PeakRssMiB()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return double.NaN;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
