using System.Security.Cryptography;
using System.Text;
using SharpTune.Data.Csv;

namespace SharpTune.Tests.Data;

public class DelimitedReaderTests
{
    private static List<(long Line, string[] Fields)> ReadAll(byte[] bytes, byte delimiter = (byte)',', bool quotes = true, int bufferSize = 1 << 20)
    {
        using var r = new DelimitedReader(new MemoryStream(bytes), "t.csv", delimiter, quotes, bufferSize);
        var rows = new List<(long, string[])>();
        while (r.Read())
        {
            var f = new string[r.FieldCount];
            for (int i = 0; i < f.Length; i++) f[i] = Encoding.UTF8.GetString(r[i]);
            rows.Add((r.LineNumber, f));
        }
        return rows;
    }

    public static TheoryData<int> BufferSizes => [16, 17, 31, 64, 1 << 20];

    [Theory]
    [MemberData(nameof(BufferSizes))]
    public void QuotesCommasCrLfBomAndEmptyLines(int bufferSize)
    {
        var text = "\uFEFFmovieId,title,genres\r\n" +
                   "11,\"American President, The (1995)\",Comedy|Drama\r\n" +
                   "\r\n" +
                   "12,\"Say \"\"Hi\"\" (2001)\",Comedy\n" +
                   "\n" +
                   "13,\"Line\nbreak (1999)\",Drama\r\n" +
                   "14,Amélie (2001),Romance";
        var rows = ReadAll(Encoding.UTF8.GetBytes(text), bufferSize: bufferSize);
        Assert.Equal(5, rows.Count);
        Assert.Equal(["movieId", "title", "genres"], rows[0].Fields);
        Assert.Equal(["11", "American President, The (1995)", "Comedy|Drama"], rows[1].Fields);
        Assert.Equal(["12", "Say \"Hi\" (2001)", "Comedy"], rows[2].Fields);
        Assert.Equal(["13", "Line\nbreak (1999)", "Drama"], rows[3].Fields);
        Assert.Equal(["14", "Amélie (2001)", "Romance"], rows[4].Fields);
        // Line numbers count physical lines, including the empty ones and the break inside quotes.
        Assert.Equal([1L, 2, 4, 6, 8], rows.Select(r => r.Line));
    }

    [Theory]
    [MemberData(nameof(BufferSizes))]
    public void EmptyFieldsAndTrailingDelimiter(int bufferSize)
    {
        var rows = ReadAll("a,,c,\n,\n"u8.ToArray(), bufferSize: bufferSize);
        Assert.Equal(["a", "", "c", ""], rows[0].Fields);
        Assert.Equal(["", ""], rows[1].Fields);
    }

    [Fact]
    public void TabAndPipeWithoutQuoting()
    {
        Assert.Equal(["196", "242", "3", "881250949"], ReadAll("196\t242\t3\t881250949\n"u8.ToArray(), (byte)'\t', quotes: false)[0].Fields);
        // ml-100k has no quoting: a quote is an ordinary character.
        Assert.Equal(["1", "\"Toy\" Story", ""], ReadAll("1|\"Toy\" Story|\n"u8.ToArray(), (byte)'|', quotes: false)[0].Fields);
    }

    [Fact]
    public void UnclosedQuoteIsAUserErrorWithTheLine()
    {
        var e = Assert.Throws<UserException>(() => ReadAll("a,b\n1,\"open\n2,3\n"u8.ToArray()));
        Assert.Equal("t.csv:2: a quoted field is not closed before the end of the file", e.Message);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(1 << 20)]
    public void HashesEveryByte(int bufferSize)
    {
        var bytes = Encoding.UTF8.GetBytes("\uFEFFx,y\r\n" + string.Concat(Enumerable.Range(0, 500).Select(i => $"{i},\"v, {i}\"\r\n")));
        using var r = new DelimitedReader(new MemoryStream(bytes), "t.csv", (byte)',', true, bufferSize);
        r.Read();
        r.Read(); // stop early: FinishSha256 must still hash the rest
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), r.FinishSha256());
    }
}
