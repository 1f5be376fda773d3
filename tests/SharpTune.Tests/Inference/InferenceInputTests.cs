using SharpTune.Data.Sft;
using SharpTune.Inference;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Inference;

/// <summary>Which part of each record format is the prompt and which the reference answer, with and without one.</summary>
public sealed class InferenceInputTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private IReadOnlyList<InferenceItem> Read(string jsonl)
    {
        var path = _dir.File("data.jsonl");
        File.WriteAllText(path, jsonl.Replace("\r", "") + "\n");
        return InferenceInput.Read(path);
    }

    private static string Roles(SftRecord r) => string.Join(",", r.Turns.Select(t => t.Role));

    [Fact]
    public void Plain_prompt_lines_take_a_string_label_as_reference_and_none_when_it_is_absent_or_null()
    {
        var items = Read("""
            {"prompt": "Is it good?", "label": "Yes", "user_id": 7}
            {"prompt": "Is it bad?", "label": null}
            {"prompt": "Is it new?"}
            """);
        Assert.Equal(["Yes", null, null], items.Select(i => i.Reference));
        Assert.All(items, i => Assert.Equal("user", Roles(i.Record)));
        Assert.Equal("Is it new?", items[2].Record.Turns[0].Content);
        Assert.Equal([new KeyValuePair<string, string>("user_id", "7")], items[0].IdFields);
        var e = Assert.Throws<UserException>(() => Read("""{"prompt": "x", "label": 1}"""));
        Assert.Contains("data.jsonl:1: field 'label' must be a string or null", e.Message);
    }

    [Fact]
    public void Alpaca_records_without_an_output_end_with_their_user_turn_and_have_no_reference()
    {
        var items = Read("""
            {"instruction": "Like it?", "input": "Heat", "output": "Yes", "system": "Be brief.", "history": [["hi", "hello"]]}
            {"instruction": "Like it?", "input": "Heat", "system": "Be brief.", "history": [["hi", "hello"]]}
            {"instruction": "Like it?", "input": "Heat", "output": null}
            {"instruction": "Like it?", "input": "Heat", "output": ""}
            """);
        Assert.Equal(["Yes", null, null, null], items.Select(i => i.Reference));
        Assert.Equal("user,assistant,user,assistant", Roles(items[0].Record));
        Assert.Equal("user,assistant,user", Roles(items[1].Record));
        Assert.Equal("Be brief.", items[1].Record.System);
        Assert.Equal("Like it?\n\nHeat", items[1].Record.Turns[^1].Content);
        Assert.Equal("user", Roles(items[2].Record));
        Assert.Equal("user", Roles(items[3].Record));
        // The first record may be the one without an output: the format is still recognised.
        Assert.Null(Read("""{"instruction": "Like it?", "input": "Heat"}""")[0].Reference);
    }

    [Fact]
    public void The_last_assistant_message_is_the_reference_and_a_conversation_ending_with_a_user_turn_has_none()
    {
        var messages = Read("""
            {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "No"}]}
            {"messages": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}]}
            """);
        Assert.Equal(["No", null], messages.Select(i => i.Reference));
        Assert.Equal("user,assistant,user,assistant", Roles(messages[0].Record));
        Assert.Equal("user,assistant,user", Roles(messages[1].Record));
        Assert.Equal("S", messages[0].Record.System);

        var sharegpt = Read("""
            {"conversations": [{"from": "human", "value": "Q"}, {"from": "gpt", "value": "Yes"}], "system": "S"}
            {"conversations": [{"from": "human", "value": "Q"}]}
            """);
        Assert.Equal(["Yes", null], sharegpt.Select(i => i.Reference));
        Assert.Equal("user", Roles(sharegpt[1].Record));

        var completions = Read("""
            {"prompt": "P1 ", "completion": "Yes"}
            {"prompt": "P2 ", "completion": null}
            """);
        Assert.Equal(["Yes", null], completions.Select(i => i.Reference));

        var e = Assert.Throws<UserException>(() => Read("""{"messages": [{"role": "system", "content": "S"}]}"""));
        Assert.Contains("data.jsonl:1: field 'messages' has no user turn to answer", e.Message);
        e = Assert.Throws<UserException>(() => Read("""{"messages": [{"role": "assistant", "content": "A"}]}"""));
        Assert.Contains("expected a user or observation turn", e.Message);
    }
}
