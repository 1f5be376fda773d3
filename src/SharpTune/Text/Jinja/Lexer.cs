using System.Globalization;
using System.Text;

namespace SharpTune.Text.Jinja;

internal enum TokenKind : byte { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof }

internal readonly record struct Token(TokenKind Kind, string Text, object? Value, int Line, int Column)
{
    public bool Is(TokenKind kind, string text) => Kind == kind && Text == text;

    public bool IsOp(string op) => Kind == TokenKind.Op && Text == op;

    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public override string ToString() => Kind switch
    {
        TokenKind.Eof => "end of template",
        TokenKind.VarEnd => "end of print statement",
        TokenKind.BlockEnd => "end of statement block",
        TokenKind.Data => "template data",
        TokenKind.String => "string",
        _ => $"'{Text}'",
    };
}

/// <summary>
/// Splits template source into data and tag tokens with transformers' whitespace settings: trim_blocks (drop the
/// first newline after a block or comment tag), lstrip_blocks (drop spaces and tabs before a block or comment tag at
/// the start of a line), <c>-</c>/<c>+</c> modifiers, and jinja2's removal of one trailing newline.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Ops = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", ";"];

    private readonly string _src;
    private readonly string _name;
    private readonly int[] _lineStarts;
    private readonly List<Token> _tokens = [];

    private Lexer(string source, string name)
    {
        // jinja2 normalises \r\n and \r to \n and drops one trailing newline (keep_trailing_newline=False).
        var s = source.Replace("\r\n", "\n").Replace('\r', '\n');
        if (s.EndsWith('\n')) s = s[..^1];
        _src = s;
        _name = name;
        var starts = new List<int> { 0 };
        for (int i = 0; i < s.Length; i++) if (s[i] == '\n') starts.Add(i + 1);
        _lineStarts = starts.ToArray();
    }

    public static List<Token> Tokenize(string source, string name)
    {
        var lx = new Lexer(source, name);
        lx.Run();
        return lx._tokens;
    }

    private (int Line, int Col) Pos(int offset)
    {
        int i = Array.BinarySearch(_lineStarts, offset);
        if (i < 0) i = ~i - 1;
        return (i + 1, offset - _lineStarts[i] + 1);
    }

    private JinjaSyntaxException Error(string message, int offset)
    {
        var (l, c) = Pos(offset);
        return new JinjaSyntaxException(message, _name, l, c);
    }

    private void Add(TokenKind kind, string text, object? value, int offset)
    {
        var (l, c) = Pos(offset);
        _tokens.Add(new Token(kind, text, value, l, c));
    }

    private int FindTag(int from)
    {
        int i = from;
        while (true)
        {
            i = _src.IndexOf('{', i);
            if (i < 0 || i + 1 >= _src.Length) return -1;
            char c = _src[i + 1];
            if (c is '{' or '%' or '#') return i;
            i++;
        }
    }

    private void Run()
    {
        string s = _src;
        int pos = 0;
        bool lineStarting = true;
        while (pos < s.Length)
        {
            int tag = FindTag(pos);
            if (tag < 0)
            {
                Add(TokenKind.Data, s[pos..], null, pos);
                break;
            }
            char kind = s[tag + 1];
            char mod = tag + 2 < s.Length ? s[tag + 2] : '\0';
            string text = s[pos..tag];
            if (mod == '-') text = TrimEndPy(text);
            else if (kind != '{' && mod != '+')
            {
                int l = text.LastIndexOf('\n') + 1;
                if ((l > 0 || lineStarting) && OnlySpacesTabs(text, l)) text = text[..l];
            }
            if (text.Length > 0) Add(TokenKind.Data, text, null, pos);
            int inner = tag + 2 + (mod is '-' or '+' ? 1 : 0);
            if (kind == '#')
            {
                int end = s.IndexOf("#}", inner, StringComparison.Ordinal);
                if (end < 0) throw Error("missing end of comment tag", tag);
                bool minus = end > inner && s[end - 1] == '-';
                bool plus = end > inner && s[end - 1] == '+';
                pos = AfterTagEnd(end + 2, minus, trim: !plus);
            }
            else if (kind == '{')
            {
                Add(TokenKind.VarBegin, "{{", null, tag);
                pos = LexTag(inner, block: false, out bool minus, out _);
                pos = AfterTagEnd(pos, minus, trim: false);
            }
            else
            {
                if (TryRaw(tag, inner, out int after)) { pos = after; lineStarting = pos > 0 && s[pos - 1] == '\n'; continue; }
                Add(TokenKind.BlockBegin, "{%", null, tag);
                pos = LexTag(inner, block: true, out bool minus, out bool plus);
                pos = AfterTagEnd(pos, minus, trim: !plus);
            }
            lineStarting = pos > 0 && s[pos - 1] == '\n';
        }
        Add(TokenKind.Eof, "", null, s.Length);
    }

    private int AfterTagEnd(int pos, bool minus, bool trim)
    {
        if (minus)
        {
            while (pos < _src.Length && PyOps.IsPySpace(_src[pos])) pos++;
        }
        else if (trim && pos < _src.Length && _src[pos] == '\n') pos++;
        return pos;
    }

    private static bool OnlySpacesTabs(string s, int from)
    {
        for (int i = from; i < s.Length; i++) if (s[i] is not (' ' or '\t')) return false;
        return true;
    }

    private static string TrimEndPy(string s)
    {
        int e = s.Length;
        while (e > 0 && PyOps.IsPySpace(s[e - 1])) e--;
        return s[..e];
    }

    // {% raw %}...{% endraw %}: the body is data, untouched.
    private bool TryRaw(int tag, int inner, out int after)
    {
        after = 0;
        string s = _src;
        int p = inner;
        while (p < s.Length && char.IsWhiteSpace(s[p])) p++;
        if (string.CompareOrdinal(s, p, "raw", 0, 3) != 0) return false;
        p += 3;
        if (p < s.Length && (char.IsLetterOrDigit(s[p]) || s[p] == '_')) return false;
        while (p < s.Length && char.IsWhiteSpace(s[p])) p++;
        bool minus = false;
        if (p < s.Length && s[p] == '-') { minus = true; p++; }
        if (string.CompareOrdinal(s, p, "%}", 0, 2) != 0) return false;
        p += 2;
        if (minus) while (p < s.Length && PyOps.IsPySpace(s[p])) p++;
        int search = p;
        while (true)
        {
            int t = s.IndexOf("{%", search, StringComparison.Ordinal);
            if (t < 0) throw Error("missing {% endraw %} for this raw block", tag);
            int q = t + 2;
            char mod = q < s.Length ? s[q] : '\0';
            if (mod is '-' or '+') q++;
            while (q < s.Length && char.IsWhiteSpace(s[q])) q++;
            if (string.CompareOrdinal(s, q, "endraw", 0, 6) == 0)
            {
                q += 6;
                while (q < s.Length && char.IsWhiteSpace(s[q])) q++;
                bool endMinus = false, endPlus = false;
                if (q < s.Length && s[q] == '-') { endMinus = true; q++; }
                else if (q < s.Length && s[q] == '+') { endPlus = true; q++; }
                if (string.CompareOrdinal(s, q, "%}", 0, 2) == 0)
                {
                    string body = s[p..t];
                    if (mod == '-') body = TrimEndPy(body);
                    else if (mod != '+')
                    {
                        // lstrip_blocks applies to {% endraw %} too.
                        int l = body.LastIndexOf('\n') + 1;
                        if ((l > 0 || (p > 0 && s[p - 1] == '\n')) && OnlySpacesTabs(body, l)) body = body[..l];
                    }
                    if (body.Length > 0) Add(TokenKind.Data, body, null, p);
                    after = AfterTagEnd(q + 2, endMinus, trim: !endPlus);
                    return true;
                }
            }
            search = t + 2;
        }
    }

    private int LexTag(int pos, bool block, out bool minus, out bool plus)
    {
        string s = _src;
        var balance = new Stack<char>();
        minus = false;
        plus = false;
        while (true)
        {
            while (pos < s.Length && char.IsWhiteSpace(s[pos])) pos++;
            if (pos >= s.Length) throw Error(block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'", pos);
            if (balance.Count == 0)
            {
                string end = block ? "%}" : "}}";
                if (string.CompareOrdinal(s, pos, end, 0, 2) == 0)
                {
                    Add(block ? TokenKind.BlockEnd : TokenKind.VarEnd, end, null, pos);
                    return pos + 2;
                }
                if ((s[pos] == '-' || (block && s[pos] == '+')) && string.CompareOrdinal(s, pos + 1, end, 0, 2) == 0)
                {
                    minus = s[pos] == '-';
                    plus = s[pos] == '+';
                    Add(block ? TokenKind.BlockEnd : TokenKind.VarEnd, end, null, pos);
                    return pos + 3;
                }
            }
            char c = s[pos];
            if (char.IsLetter(c) || c == '_')
            {
                int st = pos;
                while (pos < s.Length && (char.IsLetterOrDigit(s[pos]) || s[pos] == '_')) pos++;
                Add(TokenKind.Name, s[st..pos], null, st);
            }
            else if (char.IsAsciiDigit(c)) pos = LexNumber(pos);
            else if (c is '\'' or '"') pos = LexString(pos);
            else
            {
                string? op = null;
                foreach (var o in Ops)
                    if (string.CompareOrdinal(s, pos, o, 0, o.Length) == 0) { op = o; break; }
                if (op is null) throw Error($"unexpected character '{c}'", pos);
                if (op is "(" or "[" or "{") balance.Push(op[0]);
                else if (op is ")" or "]" or "}")
                {
                    char want = op == ")" ? '(' : op == "]" ? '[' : '{';
                    if (balance.Count == 0) throw Error($"unexpected '{op}'", pos);
                    if (balance.Pop() != want) throw Error($"unexpected '{op}'", pos);
                }
                Add(TokenKind.Op, op, null, pos);
                pos += op.Length;
            }
        }
    }

    private int LexNumber(int pos)
    {
        string s = _src;
        int st = pos;
        if (s[pos] == '0' && pos + 1 < s.Length && s[pos + 1] is 'x' or 'X' or 'o' or 'O' or 'b' or 'B')
        {
            int radix = s[pos + 1] is 'x' or 'X' ? 16 : s[pos + 1] is 'o' or 'O' ? 8 : 2;
            pos += 2;
            int ds = pos;
            while (pos < s.Length && (Uri.IsHexDigit(s[pos]) || s[pos] == '_')) pos++;
            string digits = s[ds..pos].Replace("_", "");
            try { Add(TokenKind.Int, s[st..pos], Box.Int(Convert.ToInt64(digits, radix)), st); }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException) { throw Error($"invalid number '{s[st..pos]}'", st); }
            return pos;
        }
        while (pos < s.Length && (char.IsAsciiDigit(s[pos]) || (s[pos] == '_' && pos + 1 < s.Length && char.IsAsciiDigit(s[pos + 1])))) pos++;
        bool isFloat = false;
        if (pos + 1 < s.Length && s[pos] == '.' && char.IsAsciiDigit(s[pos + 1]))
        {
            isFloat = true;
            pos++;
            while (pos < s.Length && (char.IsAsciiDigit(s[pos]) || (s[pos] == '_' && pos + 1 < s.Length && char.IsAsciiDigit(s[pos + 1])))) pos++;
        }
        if (pos < s.Length && s[pos] is 'e' or 'E')
        {
            int q = pos + 1;
            if (q < s.Length && s[q] is '+' or '-') q++;
            if (q < s.Length && char.IsAsciiDigit(s[q]))
            {
                isFloat = true;
                pos = q;
                while (pos < s.Length && char.IsAsciiDigit(s[pos])) pos++;
            }
        }
        string text = s[st..pos].Replace("_", "");
        if (isFloat) Add(TokenKind.Float, text, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), st);
        else if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) Add(TokenKind.Int, text, Box.Int(v), st);
        else throw Error($"integer literal '{text}' does not fit in 64 bits", st);
        return pos;
    }

    private int LexString(int pos)
    {
        string s = _src;
        char q = s[pos];
        int st = pos;
        pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (pos >= s.Length) throw Error("unterminated string literal", st);
            char c = s[pos];
            if (c == q) { pos++; break; }
            if (c != '\\') { sb.Append(c); pos++; continue; }
            if (pos + 1 >= s.Length) throw Error("unterminated string literal", st);
            char e = s[pos + 1];
            pos += 2;
            switch (e)
            {
                case '\n': break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case 'x': sb.Append((char)Hex(ref pos, 2, st)); break;
                case 'u': sb.Append((char)Hex(ref pos, 4, st)); break;
                case 'U':
                    int cp = Hex(ref pos, 8, st);
                    if (cp > 0x10ffff) throw Error("invalid \\U escape", st);
                    sb.Append(char.ConvertFromUtf32(cp));
                    break;
                case >= '0' and <= '7':
                    int v = e - '0', n = 1;
                    while (n < 3 && pos < s.Length && s[pos] is >= '0' and <= '7') { v = v * 8 + (s[pos] - '0'); pos++; n++; }
                    sb.Append((char)v);
                    break;
                default: sb.Append('\\').Append(e); break;
            }
        }
        Add(TokenKind.String, s[st..pos], sb.ToString(), st);
        return pos;
    }

    private int Hex(ref int pos, int n, int st)
    {
        if (pos + n > _src.Length) throw Error("truncated escape in string literal", st);
        if (!int.TryParse(_src.AsSpan(pos, n), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v) || _src.AsSpan(pos, n).ContainsAny("+- "))
            throw Error("truncated escape in string literal", st);
        pos += n;
        return v;
    }
}
