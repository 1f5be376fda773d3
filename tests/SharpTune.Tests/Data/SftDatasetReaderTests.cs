using SharpTune.Data.Sft;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Data;

public class SftDatasetReaderTests
{
    private static IReadOnlyList<SftRecord> ReadText(string content, DatasetDescription? d = null, string ext = ".jsonl")
    {
        using var tmp = TestEnvironment.TempDir();
        var path = tmp.File("data" + ext);
        File.WriteAllText(path, content);
        return SftDatasetReader.Read(path, d);
    }

    private static UserException ReadError(string content, DatasetDescription? d = null, string ext = ".jsonl") =>
        Assert.Throws<UserException>(() => ReadText(content, d, ext));

    [Fact]
    public void AlpacaJoinsInstructionAndInputWithABlankLineAndKeepsHistoryAndSystem()
    {
        var r = Assert.Single(ReadText("""
            [{"instruction": "Predict.", "input": "User's list", "output": "Yes", "system": "Sys", "history": [["hi", "hello"]], "extra": 1}]
            """, ext: ".json"));
        Assert.Equal(SftRecordKind.Conversation, r.Kind);
        Assert.Equal("Sys", r.System);
        Assert.Equal(
            [new SftTurn("user", "hi"), new SftTurn("assistant", "hello"), new SftTurn("user", "Predict.\n\nUser's list"), new SftTurn("assistant", "Yes")],
            r.Turns);
        Assert.EndsWith("data.json:1", r.Source); // JSON arrays name the line each record starts on
    }

    [Fact]
    public void AlpacaWithEmptyInputAndEmptySystemUsesInstructionAloneAndNoSystem()
    {
        var r = Assert.Single(ReadText("""{"instruction": "Say hi", "input": "", "output": "hi", "system": ""}"""));
        Assert.Null(r.System);
        Assert.Equal("Say hi", r.Turns[0].Content);
    }

    [Fact]
    public void MessagesTakeALeadingSystemTurn()
    {
        var r = Assert.Single(ReadText("""{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}]}"""));
        Assert.Equal("S", r.System);
        Assert.Equal([new SftTurn("user", "U"), new SftTurn("assistant", "A")], r.Turns);
    }

    [Fact]
    public void ShareGptMapsRoles()
    {
        var r = Assert.Single(ReadText("""{"conversations": [{"from": "human", "value": "U"}, {"from": "gpt", "value": "A"}, {"from": "human", "value": "U2"}, {"from": "gpt", "value": "A2"}]}"""));
        Assert.Equal(4, r.Turns.Count);
        Assert.Equal("assistant", r.Turns[3].Role);
        Assert.Equal("A2", r.Turns[3].Content);
    }

    [Fact]
    public void PromptCompletionInputFullTextAndText()
    {
        var pc = Assert.Single(ReadText("""{"prompt": "2+2=", "completion": "4"}"""));
        Assert.Equal((SftRecordKind.Completion, "2+2=", "4"), (pc.Kind, pc.Prompt, pc.Completion));
        var ft = Assert.Single(ReadText("""{"input_text": "Q: x\nA:", "full_text": "Q: x\nA: yes"}"""));
        Assert.Equal((SftRecordKind.Completion, "Q: x\nA:", " yes"), (ft.Kind, ft.Prompt, ft.Completion));
        var t = Assert.Single(ReadText("""{"text": "once upon"}"""));
        Assert.Equal((SftRecordKind.Text, "once upon"), (t.Kind, t.Completion));
    }

    [Fact]
    public void JsonlSkipsBlankLinesAndCountsLinesInSources()
    {
        var rs = ReadText("\uFEFF{\"text\": \"a\"}\r\n\r\n{\"text\": \"b\"}\n");
        Assert.Equal(2, rs.Count);
        Assert.EndsWith(":3", rs[1].Source);
        Assert.Equal(1, rs[1].Index);
    }

    [Theory]
    [InlineData("{\"text\": \"a\"}\n{\"text\": 5}\n", "data.jsonl:2: field 'text' must be a string")]
    [InlineData("{\"text\": \"a\"}\n{bad json\n", "data.jsonl:2: not valid JSON")]
    [InlineData("{\"foo\": 1}\n", "data.jsonl:1: cannot tell the record format")]
    [InlineData("{\"instruction\": \"i\", \"output\": \"o\"}\n{\"instruction\": \"i\"}\n", "data.jsonl:2: missing field 'output'")]
    [InlineData("{\"input_text\": \"abc\", \"full_text\": \"abd\"}\n", "data.jsonl:1: field 'full_text' does not start with 'input_text'")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"u\"}]}\n", "must end with an assistant turn")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": \"u\"}, {\"role\": \"user\", \"content\": \"u\"}]}\n", "messages[1]: expected an assistant or function-call turn")]
    [InlineData("{\"messages\": [{\"role\": \"robot\", \"content\": \"u\"}]}\n", "messages[0].role is 'robot'")]
    [InlineData("{\"instruction\": \"i\", \"output\": \"o\", \"history\": [[\"a\"]]}\n", "field 'history'[0] must be a pair")]
    [InlineData("   \n", "the file is empty")]
    public void BadRecordsNameFileLineAndField(string content, string expected)
    {
        var e = ReadError(content);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void JsonArrayErrorsNameTheRecordLine()
    {
        var e = ReadError("[\n  {\"text\": \"a\"},\n\n  {\"text\": null}]", ext: ".json");
        Assert.Contains("data.json:4: field 'text' must be a string", e.Message);
    }

    [Fact]
    public void DatasetDescriptionMapsColumnsAndTags()
    {
        using var tmp = TestEnvironment.TempDir();
        File.WriteAllText(tmp.File("d.jsonl"), """{"q": "Q", "ctx": "C", "a": "A", "sys": "S"}""" + "\n");
        File.WriteAllText(tmp.File("c.jsonl"), """{"turns": [{"speaker": "me", "text": "U"}, {"speaker": "bot", "text": "A"}]}""" + "\n");
        File.WriteAllText(tmp.File("dataset_info.json"), """
            {"qa": {"file_name": "d.jsonl", "formatting": "alpaca", "columns": {"prompt": "q", "query": "ctx", "response": "a", "system": "sys"}},
             "chat": {"file_name": "c.jsonl", "formatting": "sharegpt", "columns": {"messages": "turns"}, "tags": {"role_tag": "speaker", "content_tag": "text", "user_tag": "me", "assistant_tag": "bot"}},
             "bad": {"file_name": "d.jsonl", "formatting": "weird"}}
            """);
        var (d, file) = DatasetDescription.Load(tmp.File("dataset_info.json"), "qa");
        var r = Assert.Single(SftDatasetReader.Read(file, d));
        Assert.Equal("S", r.System);
        Assert.Equal("Q\nC", r.Turns[0].Content); // dataset_info.json: LLaMA-Factory joins with one newline
        var (d2, file2) = DatasetDescription.Load(tmp.File("dataset_info.json"), "chat");
        var r2 = Assert.Single(SftDatasetReader.Read(file2, d2));
        Assert.Equal([new SftTurn("user", "U"), new SftTurn("assistant", "A")], r2.Turns);
        Assert.Contains("formatting 'weird'", Assert.Throws<UserException>(() => DatasetDescription.Load(tmp.File("dataset_info.json"), "bad")).Message);
        Assert.Contains("no dataset named 'nope'", Assert.Throws<UserException>(() => DatasetDescription.Load(tmp.File("dataset_info.json"), "nope")).Message);
    }
}
