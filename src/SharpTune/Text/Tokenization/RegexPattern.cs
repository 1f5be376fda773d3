using System.Text.RegularExpressions;

namespace SharpTune.Text.Tokenization;

/// <summary>
/// The general fallback for a <c>{"Regex": ...}</c> pattern, run with .NET's regex engine. Its syntax and
/// classes are close to Oniguruma's for the patterns tokenizers use, but it works on UTF-16 units (so
/// <c>\p{L}</c> does not match letters outside the BMP); the known GPT-2/Qwen/Llama 3 patterns use
/// <see cref="PreTokenizerRegexScanner"/> instead.
/// </summary>
internal sealed class RegexPattern : ISplitPattern
{
    private readonly Regex _regex;
    private readonly string _where;

    public RegexPattern(string pattern, string where)
    {
        _where = where;
        try
        {
            _regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromSeconds(10));
        }
        catch (ArgumentException e)
        {
            throw new UserException($"{where}: regex pattern is not supported: {e.Message}");
        }
    }

    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End, bool IsMatch)> output)
    {
        if (text.IsEmpty) { output.Add((0, 0, false)); return; }
        int prev = 0;
        try
        {
            foreach (var m in _regex.EnumerateMatches(text))
            {
                if (prev != m.Index) output.Add((prev, m.Index, false));
                output.Add((m.Index, m.Index + m.Length, true));
                prev = m.Index + m.Length;
            }
        }
        catch (RegexMatchTimeoutException)
        {
            // A pathological pattern must not hang encoding.
            throw new UserException($"{_where}: the regex took more than 10 s on a {text.Length}-character input");
        }
        if (prev != text.Length) output.Add((prev, text.Length, false));
    }
}
