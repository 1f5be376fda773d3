namespace SharpTune.Text.Tokenization;

/// <summary>Per-thread working memory for encoding, reused across calls so the hot path allocates nothing per token.</summary>
internal sealed class EncodeScratch
{
    [ThreadStatic] private static EncodeScratch? _current;

    public static EncodeScratch Current => _current ??= new EncodeScratch();

    public readonly PreTokenizeState State = new();
    public NormalizedBuffer Piece = new();
    public NormalizedBuffer PieceSpare = new();
    public readonly BpeWordMerger Merger = new();
    public readonly TokenSink Sink = new();
    public readonly List<AddedTokenMatch> AddedMatches = new(16);
    public readonly List<AddedTokenMatch> NormalizedMatches = new(16);
    private byte[] _bytes = new byte[256];
    private char[] _chars = new char[256];

    public byte[] Bytes(int n) => _bytes.Length >= n ? _bytes : _bytes = new byte[Math.Max(n, _bytes.Length * 2)];

    public char[] Chars(int n) => _chars.Length >= n ? _chars : _chars = new char[Math.Max(n, _chars.Length * 2)];
}
