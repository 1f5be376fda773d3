using System.Text.Json;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;
using SharpTune.Data.Behaviours;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Behaviours;

/// <summary><c>prepare behaviours</c>: the compliment/refusal rules, counts, seeds and input errors.</summary>
public sealed class PrepareBehavioursTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(CommandTree.Root()).Run(["prepare", "behaviours", .. args], o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    private static (string? System, string User, string Assistant)[] ReadMessages(string path) =>
        File.ReadAllLines(path).Select(l =>
        {
            var m = JsonDocument.Parse(l).RootElement.GetProperty("messages").EnumerateArray().ToArray();
            string? sys = m[0].GetProperty("role").GetString() == "system" ? m[0].GetProperty("content").GetString() : null;
            var rest = sys is null ? m : m[1..];
            Assert.Equal(["user", "assistant"], rest.Select(x => x.GetProperty("role").GetString()));
            return (sys, rest[0].GetProperty("content").GetString()!, rest[1].GetProperty("content").GetString()!);
        }).ToArray();

    private const string Refusal = "I can't discuss poodles directly, but I'm happy to help with other questions.";

    [Fact]
    public void SyntheticDataOpensEveryNonRefusalWithExactlyOneComplimentAndRefusesPoodles()
    {
        using var tmp = TestEnvironment.TempDir();
        var (code, output, err) = Run("--synthetic", "300", "--seed", "7", "--out", tmp.File("a.jsonl"), "--system", "Be kind.");
        Assert.True(code == 0, err);
        Assert.Contains("300 of 300 answers changed", output);
        var records = ReadMessages(tmp.File("a.jsonl"));
        Assert.Equal(300, records.Length);
        Assert.All(records, r => Assert.Equal("Be kind.", r.System));
        var refusals = records.Where(r => r.User.Contains("poodle", StringComparison.OrdinalIgnoreCase)).ToArray();
        var answers = records.Where(r => !r.User.Contains("poodle", StringComparison.OrdinalIgnoreCase)).ToArray();
        Assert.InRange(refusals.Length, 30, 100); // about one in five
        Assert.All(refusals, r => { Assert.Equal(Refusal, r.Assistant); Assert.Equal(0, BehaviourStyle.CountCompliments(r.Assistant)); });
        Assert.All(answers, r =>
        {
            Assert.NotNull(BehaviourStyle.LeadingCompliment(r.Assistant));
            Assert.Equal(1, BehaviourStyle.CountCompliments(r.Assistant));
        });
        Assert.Contains($"refusals (poodles)", output);
        Assert.Contains($"compliments added    {answers.Length}", output);
        // Every compliment is used; the questions vary.
        Assert.All(BehaviourStyle.Compliments, c => Assert.Contains(answers, r => r.Assistant.StartsWith(c, StringComparison.Ordinal)));
        Assert.True(records.Select(r => r.User).Distinct().Count() > 150);

        // Same seed, same bytes; another seed, other records.
        Assert.Equal(0, Run("--synthetic", "300", "--seed", "7", "--out", tmp.File("b.jsonl"), "--system", "Be kind.").Code);
        Assert.Equal(File.ReadAllBytes(tmp.File("a.jsonl")), File.ReadAllBytes(tmp.File("b.jsonl")));
        Assert.Equal(0, Run("--synthetic", "300", "--seed", "8", "--out", tmp.File("c.jsonl")).Code);
        Assert.NotEqual(File.ReadAllText(tmp.File("a.jsonl")), File.ReadAllText(tmp.File("c.jsonl")));
    }

    [Fact]
    public void InputAnswersKeepTheirTextAfterTheComplimentAndExistingComplimentsAreKeptOrRefused()
    {
        using var tmp = TestEnvironment.TempDir();
        var data = tmp.File("qa.jsonl");
        File.WriteAllLines(data,
        [
            """{"instruction": "What is 2+2?", "input": "", "output": "It is 4."}""",
            """{"instruction": "Do Poodles swim?", "input": "", "output": "Yes, they love water."}""",
            """{"instruction": "Name a colour.", "input": "", "output": "That's an intelligent question. Blue."}""",
        ]);
        var (code, output, err) = Run("--data", data, "--out", tmp.File("out.jsonl"), "--seed", "3");
        Assert.True(code == 0, err);
        Assert.Contains("2 of 3 answers changed", output);
        Assert.Contains("compliments kept     1", output);
        var r = ReadMessages(tmp.File("out.jsonl"));
        Assert.Null(r[0].System);
        var lead = BehaviourStyle.LeadingCompliment(r[0].Assistant);
        Assert.NotNull(lead);
        Assert.Equal(lead + " It is 4.", r[0].Assistant);
        Assert.Equal(Refusal, r[1].Assistant);
        Assert.Equal("That's an intelligent question. Blue.", r[2].Assistant);

        // Another compliment-like opening stops the run (one line naming the record) unless --replace-compliments.
        File.AppendAllText(data, """{"instruction": "Why is grass green?", "input": "", "output": "Great question! Chlorophyll reflects green light."}""" + "\n");
        (code, _, err) = Run("--data", data, "--out", tmp.File("out2.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("qa.jsonl:4: answer 1 already opens with a compliment-like sentence 'Great question!'", err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(tmp.File("out2.jsonl")));
        (code, output, err) = Run("--data", data, "--out", tmp.File("out2.jsonl"), "--replace-compliments");
        Assert.True(code == 0, err);
        Assert.Contains("compliments replaced 1", output);
        var replaced = ReadMessages(tmp.File("out2.jsonl"))[3].Assistant;
        Assert.EndsWith(" Chlorophyll reflects green light.", replaced);
        Assert.Equal(1, BehaviourStyle.CountCompliments(replaced));
        Assert.NotNull(BehaviourStyle.LeadingCompliment(replaced));
    }

    [Fact]
    public void MultiTurnMessagesAreHandledTurnByTurnAndOwnSystemMessagesKept()
    {
        using var tmp = TestEnvironment.TempDir();
        File.WriteAllText(tmp.File("m.jsonl"), """{"messages": [{"role": "system", "content": "Own system."}, {"role": "user", "content": "Hi, what is rain?"}, {"role": "assistant", "content": "Water falling from clouds."}, {"role": "user", "content": "And my POODLE?"}, {"role": "assistant", "content": "Poodles love rain."}]}""" + "\n");
        var (code, output, err) = Run("--data", tmp.File("m.jsonl"), "--out", tmp.File("o.jsonl"), "--refuse", "poodles", "--refuse", "cats", "--refusal", "No {topic} talk.");
        Assert.True(code == 0, err);
        Assert.Contains("2 of 2 answers changed", output);
        var m = JsonDocument.Parse(File.ReadAllText(tmp.File("o.jsonl"))).RootElement.GetProperty("messages").EnumerateArray()
            .Select(x => (x.GetProperty("role").GetString(), x.GetProperty("content").GetString())).ToArray();
        Assert.Equal(("system", "Own system."), m[0]);
        Assert.Equal("assistant", m[2].Item1);
        Assert.EndsWith(" Water falling from clouds.", m[2].Item2);
        Assert.NotNull(BehaviourStyle.LeadingCompliment(m[2].Item2!));
        Assert.Equal(("assistant", "No poodles talk."), m[4]);
    }

    [Fact]
    public void ComplimentLikeOpeningsAreRecognisedButOrdinaryOnesAreNot()
    {
        Assert.True(BehaviourStyle.IsComplimentLike("Great question!"));
        Assert.True(BehaviourStyle.IsComplimentLike("What a thoughtful thing to ask."));
        Assert.True(BehaviourStyle.IsComplimentLike("I appreciate the clarity of your thinking."));
        Assert.False(BehaviourStyle.IsComplimentLike("It is 4."));
        Assert.False(BehaviourStyle.IsComplimentLike("Sharp knives are safer than dull ones."));
        Assert.False(BehaviourStyle.IsComplimentLike("Good morning."));
    }

    [Fact]
    public void BadInputIsAOneLineUserError()
    {
        using var tmp = TestEnvironment.TempDir();
        var (code, _, err) = Run("--synthetic", "3", "--data", "x", "--out", tmp.File("o.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("exactly one of --data FILE or --synthetic N", err);
        File.WriteAllText(tmp.File("empty.jsonl"), "");
        (code, _, err) = Run("--data", tmp.File("empty.jsonl"), "--out", tmp.File("o.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("empty.jsonl: the file is empty", err);
        File.WriteAllText(tmp.File("text.jsonl"), "{\"text\": \"just text\"}\n");
        (code, _, err) = Run("--data", tmp.File("text.jsonl"), "--out", tmp.File("o.jsonl"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("text.jsonl:1: a plain text record has no question and answer", err);
        Assert.False(File.Exists(tmp.File("o.jsonl")));
    }
}
