using System.Buffers.Text;

namespace SharpTune.Data.Csv;

/// <summary>Strict number parsing of whole fields (no spaces, no trailing text).</summary>
internal static class Utf8Numbers
{
    /// <summary>Parses a whole field as a 32-bit integer.</summary>
    public static bool TryInt(ReadOnlySpan<byte> field, out int value) =>
        Utf8Parser.TryParse(field, out value, out int used) && used == field.Length && field.Length > 0;

    /// <summary>Parses a whole field as a 64-bit integer.</summary>
    public static bool TryLong(ReadOnlySpan<byte> field, out long value) =>
        Utf8Parser.TryParse(field, out value, out int used) && used == field.Length && field.Length > 0;

    /// <summary>Parses a whole field as a finite double (plain decimal notation).</summary>
    public static bool TryDouble(ReadOnlySpan<byte> field, out double value) =>
        Utf8Parser.TryParse(field, out value, out int used) && used == field.Length && field.Length > 0 && double.IsFinite(value);
}
