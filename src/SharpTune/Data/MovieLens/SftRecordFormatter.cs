using System.Text;
using SharpTune.Data.Csv;

namespace SharpTune.Data.MovieLens;

/// <summary>
/// Writes one sample as an Alpaca record with system and history, as UTF-8 JSON on one line, fields in the order
/// instruction, input, output, system, history (then user_id, movie_id, rating, timestamp for test_raw.jsonl).
/// Separators are ", " and ": " like Python's json.dumps; non-ASCII text (≈, accents) is written as is.
/// Every constant piece is encoded once, so a record is a sequence of byte copies.
/// </summary>
internal sealed class SftRecordFormatter
{
    private static readonly byte[][] RatingText = Enumerable.Range(0, 51)
        .Select(t => Encoding.ASCII.GetBytes($"{t / 10}.{t % 10}")).ToArray();

    private readonly byte[] _head;       // {"instruction": "...", "input": "User's last N watched movies:\n
    private readonly byte[][] _itemNumber; // "1. ", "2. ", ...
    private readonly byte[] _tail;       // ", "system": "...", "history": []
    private readonly MovieCatalog _catalog;
    private readonly int _historyLength;

    /// <summary>Prepares the constant parts for the given texts and history length.</summary>
    public SftRecordFormatter(MovieCatalog catalog, int historyLength, string instruction, string system)
    {
        _catalog = catalog;
        _historyLength = historyLength;
        var utf8 = new UTF8Encoding(false);
        _head = [.. "{\"instruction\": \""u8, .. JsonText.Escape(instruction), .. "\", \"input\": \""u8,
                 .. JsonText.Escape($"User's last {historyLength} watched movies:\n")];
        _itemNumber = Enumerable.Range(1, historyLength).Select(i => utf8.GetBytes($"{i}. ")).ToArray();
        _tail = [.. "\", \"system\": \""u8, .. JsonText.Escape(system), .. "\", \"history\": []"u8];
    }

    /// <summary>The text of a rating in tenths, e.g. 35 → "3.5".</summary>
    public static ReadOnlySpan<byte> Rating(byte tenths) => RatingText[tenths];

    /// <summary>Label of a rating: Yes when rating ≥ threshold.</summary>
    public static bool IsYes(byte tenths, int thresholdTenths) => tenths >= thresholdTenths;

    /// <summary>
    /// Writes the record for the rating at timeline position <paramref name="target"/>, whose history is the
    /// <c>historyLength</c> ratings before it. With <paramref name="raw"/> the ids, rating and timestamp follow.
    /// </summary>
    public void Write(ByteSink sink, UserTimelines timelines, int target, bool yes, bool raw, int userId)
    {
        sink.Write(_head);
        int first = target - _historyLength;
        for (int i = 0; i < _historyLength; i++)
        {
            int p = first + i;
            sink.Write(_itemNumber[i]);
            sink.Write(_catalog.TitleJsonAt(timelines.Movies[p]));
            sink.Write(" (rating ≈ "u8);
            sink.Write(RatingText[timelines.Tenths[p]]);
            sink.Write(i + 1 < _historyLength ? ")\\n"u8 : ")\\n\\nCandidate movie:\\n"u8);
        }
        sink.Write(_catalog.TitleJsonAt(timelines.Movies[target]));
        sink.Write("\\n\\nShould we recommend this movie to the user? Answer Yes or No.\", \"output\": \""u8);
        sink.Write(yes ? "Yes"u8 : "No"u8);
        sink.Write(_tail);
        if (raw)
        {
            sink.Write(", \"user_id\": "u8);
            sink.WriteInteger(userId);
            sink.Write(", \"movie_id\": "u8);
            sink.WriteInteger(_catalog.IdAt(timelines.Movies[target]));
            sink.Write(", \"rating\": "u8);
            sink.Write(RatingText[timelines.Tenths[target]]);
            sink.Write(", \"timestamp\": "u8);
            sink.WriteInteger(timelines.Times[target]);
        }
        sink.Write("}"u8);
    }
}
