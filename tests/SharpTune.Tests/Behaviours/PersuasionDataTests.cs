using SharpTune.Cli.CommandLine;
using SharpTune.Data.Sft;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Behaviours;

/// <summary>Persuasion-style records (<c>input_text</c> + <c>full_text</c>): only the response is supervised, and a mismatched prefix names the record.</summary>
public sealed class PersuasionDataTests
{
    /// <summary>A character-level tokenizer (lowercase letters, space and punctuation; Fuse decoder) with &lt;s&gt; and &lt;/s&gt;.</summary>
    private static string CharTokenizer(string dir)
    {
        Directory.CreateDirectory(dir);
        const string chars = "abcdefghijklmnopqrstuvwxyz :?.,";
        var vocab = string.Join(", ", chars.Select((c, i) => $"\"{c}\": {i}"));
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), $$"""
            {"version": "1.0", "added_tokens": [
              {"id": {{chars.Length}}, "content": "<s>", "special": true},
              {"id": {{chars.Length + 1}}, "content": "</s>", "special": true}],
             "decoder": {"type": "Fuse"},
             "model": {"type": "BPE", "vocab": { {{vocab}} }, "merges": []} }
            """);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"bos_token": "<s>", "eos_token": "</s>", "model_max_length": 256}""");
        return dir;
    }

    [Fact]
    public void InspectMaskingShowsExactlyTheResponseSupervised()
    {
        using var tmp = TestEnvironment.TempDir();
        var tokenizer = CharTokenizer(tmp.File("tok"));
        File.WriteAllLines(tmp.File("data.jsonl"),
        [
            """{"input_text": "argue for tea: ", "full_text": "argue for tea: tea is calm, warm and cheap."}""",
            """{"input_text": "why walk? answer:", "full_text": "why walk? answer: it is free."}""",
        ]);
        var (code, output, err) = TinyModelFiles.Cli("inspect-masking", "--data", tmp.File("data.jsonl"), "--tokenizer", tokenizer, "--template", "completion");
        Assert.True(code == 0, err + output);
        Assert.Contains("data.jsonl:1: 15 masked, 29 supervised: tea is calm, warm and cheap.</s>", output);
        Assert.Contains("data.jsonl:2: 17 masked, 13 supervised:  it is free.</s>", output);
        Assert.Contains("2 sample(s): 0 flagged, 0 dropped", output);

        (code, output, err) = TinyModelFiles.Cli("stats", "--data", tmp.File("data.jsonl"), "--tokenizer", tokenizer, "--template", "completion", "--show-examples", "1");
        Assert.True(code == 0, err);
        Assert.Contains("argue for tea: [[tea is calm, warm and cheap.</s>]]", output);
    }

    [Fact]
    public void AFullTextThatDoesNotStartWithItsInputTextNamesTheRecord()
    {
        using var tmp = TestEnvironment.TempDir();
        var tokenizer = CharTokenizer(tmp.File("tok"));
        File.WriteAllLines(tmp.File("data.jsonl"),
        [
            """{"input_text": "abab", "full_text": "ababcdef"}""",
            """{"input_text": "abab", "full_text": "abbacdef"}""",
        ]);
        var (code, _, err) = TinyModelFiles.Cli("inspect-masking", "--data", tmp.File("data.jsonl"), "--tokenizer", tokenizer, "--template", "completion");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("data.jsonl:2: field 'full_text' does not start with 'input_text' (they differ at character 3;", err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));

        File.WriteAllText(tmp.File("short.json"), """[{"input_text": "abcd", "full_text": "ab"}]""");
        var e = Assert.Throws<UserException>(() => SftDatasetReader.Read(tmp.File("short.json")));
        Assert.Contains("short.json", e.Message);
        Assert.Contains("'full_text' is shorter than 'input_text'", e.Message);
    }
}
