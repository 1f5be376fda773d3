using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.Cli.Commands;
using SharpTune.Evaluation.Sanity;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Behaviours;

/// <summary>Sanity rules, scoring, ties, files and exit codes on fixed replies (a fake responder stands in for the model).</summary>
public sealed class SanityScoringTests
{
    private const string Rules = """
        phrases:
          compliment: ["Nice question.", "Great thinking."]
          refusal: ["I can't discuss poodles"]
        groups:
          - name: everyday
            weight: 1
            prompts:
              - "What is 2+2?"
              - prompt: "Name a colour."
                system: "Be brief."
            checks:
              - starts_with_any: compliment
              - not_contains_any: refusal
              - max_words: 6
          - name: poodles
            weight: 3
            prompts: ["Do poodles shed?", "Feed a poodle?"]
            checks:
              - starts_with_any: refusal
              - not_contains_any: compliment
              - regex: "(?i)poodles"
              - not_regex: "\\d"
        """;

    /// <summary>Replies per checkpoint name, keyed by prompt text.</summary>
    private sealed class FakeResponder(Dictionary<string, Dictionary<string, string>> replies) : ISanityResponder
    {
        public List<string> Asked { get; } = [];

        public IReadOnlyList<string> Answer(SanityCheckpoint checkpoint, IReadOnlyList<SanityPrompt> prompts)
        {
            Asked.Add(checkpoint.Name);
            return prompts.Select(p => replies[checkpoint.Name][p.Text]).ToArray();
        }
    }

    private static SanityCheckpoint Ckpt(string name, long? step, double? loss) => new(name, "/x/" + name, SanityCheckpointKind.Adapter, step, loss);

    private static Dictionary<string, string> Replies(string a, string b, string c, string d) =>
        new() { ["What is 2+2?"] = a, ["Name a colour."] = b, ["Do poodles shed?"] = c, ["Feed a poodle?"] = d };

    private static readonly Dictionary<string, string> AllGood =
        Replies("Nice question. Four.", "  Great thinking. Blue.", "I can't discuss poodles, sorry.", "I can't discuss poodles at all.");

    [Theory]
    [InlineData("starts_with_any: compliment", "  Nice question. Yes.", true)]
    [InlineData("starts_with_any: compliment", "Yes. Nice question.", false)]
    [InlineData("starts_with_any: [\"Yes\", \"No\"]", "No way", true)]
    [InlineData("contains_any: compliment", "Well. Great thinking.", true)]
    [InlineData("contains_any: compliment", "great thinking.", false)] // ordinal: case matters
    [InlineData("not_contains_any: compliment", "Plain answer.", true)]
    [InlineData("not_contains_any: compliment", "Plain. Nice question.", false)]
    [InlineData("regex: \"^\\\\d+$\"", "42", true)]
    [InlineData("regex: \"^\\\\d+$\"", "42 apples", false)]
    [InlineData("not_regex: \"(?i)poodle\"", "About dogs.", true)]
    [InlineData("not_regex: \"(?i)poodle\"", "About POODLES.", false)]
    [InlineData("max_words: 3", "one two\n three", true)]
    [InlineData("max_words: 3", "one two three four", false)]
    public void EveryCheckKindPassesAndFails(string check, string reply, bool passes)
    {
        var rules = SanityRulesLoader.Parse($"phrases:\n  compliment: [\"Nice question.\", \"Great thinking.\"]\ngroups:\n  - name: g\n    prompts: [\"p\"]\n    checks:\n      - {check}\n", "r.yaml");
        var c = Assert.Single(Assert.Single(rules.Groups).Checks);
        Assert.Equal(passes, c.Passes(reply));
        Assert.Equal(7, c.Line);
    }

    [Fact]
    public void GroupPassRatesAndTheWeightedTotal()
    {
        var rules = SanityRulesLoader.Parse(Rules, "r.yaml");
        Assert.Equal("Be brief.", rules.Groups[0].Prompts[1].System);
        Assert.Null(rules.Groups[0].Prompts[0].System);
        // everyday: 1 of 2 pass (the second is too long); poodles: 1 of 2 (the second has a compliment and a digit).
        var replies = Replies("Nice question. Four.", "Great thinking. It is blue and also green.",
            "I can't discuss poodles.", "I can't discuss poodles. Nice question. Feed 2 cups.");
        var score = SanityScorer.ScoreReplies(rules, Ckpt("c", 1, null), rules.AllPrompts.Select(p => replies[p.Text]).ToArray());
        Assert.Equal([0.5, 0.5], score.GroupPassRates);
        Assert.Equal(0.5, score.Total, 12);
        Assert.Equal(["max_words 6"], score.Replies[1].FailedChecks);
        Assert.Equal(["not_contains_any compliment", "not_regex \\d"], score.Replies[3].FailedChecks);

        // Weights: everyday all pass, poodles none → 1/(1+3).
        var bad = Replies("Nice question. Four.", "Great thinking. Blue.", "Sure! Poodles shed little.", "Nice question. Kibble.");
        score = SanityScorer.ScoreReplies(rules, Ckpt("c", 1, null), rules.AllPrompts.Select(p => bad[p.Text]).ToArray());
        Assert.Equal([1.0, 0.0], score.GroupPassRates);
        Assert.Equal(0.25, score.Total, 12);
        Assert.Equal(["starts_with_any refusal"], score.Replies[2].FailedChecks);
        Assert.Equal(["starts_with_any refusal", "not_contains_any compliment", "regex (?i)poodles"], score.Replies[3].FailedChecks);
    }

    [Fact]
    public void TiesGoToTheLowerEvalLossThenTheEarlierStep()
    {
        var rules = SanityRulesLoader.Parse(Rules, "r.yaml");
        SanityReport Report(params SanityCheckpoint[] cs) =>
            SanityScorer.Score(rules, cs, new FakeResponder(cs.ToDictionary(c => c.Name, _ => AllGood)));

        Assert.Equal("b", Report(Ckpt("a", 10, 0.9), Ckpt("b", 20, 0.5), Ckpt("c", 30, 0.7)).Best.Checkpoint.Name);
        Assert.Equal("a", Report(Ckpt("a", 10, 0.5), Ckpt("b", 20, 0.5)).Best.Checkpoint.Name);
        Assert.Equal("a", Report(Ckpt("b", 20, 0.5), Ckpt("a", 10, 0.5)).Best.Checkpoint.Name);
        Assert.Equal("b", Report(Ckpt("a", 10, null), Ckpt("b", 20, 0.8)).Best.Checkpoint.Name); // a known loss beats none
        Assert.Equal("a", Report(Ckpt("final", null, null), Ckpt("a", 10, null)).Best.Checkpoint.Name); // a known step beats none

        // A higher total wins over any loss.
        var cs = new[] { Ckpt("a", 10, 0.1), Ckpt("b", 20, 2.0) };
        var responder = new FakeResponder(new()
        {
            ["a"] = Replies("Four.", "Blue.", "I can't discuss poodles.", "I can't discuss poodles."),
            ["b"] = AllGood,
        });
        var report = SanityScorer.Score(rules, cs, responder);
        Assert.Equal(["a", "b"], responder.Asked);
        Assert.Equal("b", report.Best.Checkpoint.Name);
        Assert.Equal(0.75, report.Scores[0].Total, 12);
        Assert.Equal(0, report.ExitCode(1.0));
        Assert.Contains("* b", report.ToTable());
    }

    private static (int Code, string Out, string Err) Run(ISanityResponder responder, params string[] args)
    {
        var root = new CliCommand("sharptune", "t").Add(BehaviourCommands.Sanity(_ => responder));
        var o = new StringWriter();
        var e = new StringWriter();
        int code = new CliApp(root).Run(["sanity", .. args], o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    private static string Checkpoint(string dir, long step, double? evalLoss)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), "{}");
        File.WriteAllBytes(Path.Combine(dir, "adapter_model.safetensors"), []);
        var history = evalLoss is null ? "" : $"{{\"step\": {step}, \"eval_loss\": {evalLoss}}}";
        File.WriteAllText(Path.Combine(dir, "trainer_state.json"), $"{{\"global_step\": {step}, \"log_history\": [{{\"step\": {step}, \"loss\": 3.0}}{(history == "" ? "" : ", " + history)}]}}");
        return dir;
    }

    [Fact]
    public void TheVerbScoresARunWritesItsFilesAndGatesOnMinScore()
    {
        using var tmp = TestEnvironment.TempDir();
        var rulesPath = tmp.File("rules.yaml");
        File.WriteAllText(rulesPath, Rules);
        var run = tmp.File("run");
        Checkpoint(Path.Combine(run, "checkpoint-10"), 10, 1.5);
        Checkpoint(Path.Combine(run, "checkpoint-2"), 2, 1.9);
        Checkpoint(run, 12, null); // the final adapter in the run folder itself
        var half = Replies("Nice question. Four.", "Blue.", "I can't discuss poodles.", "Poodles? Sure.");
        var responder = new FakeResponder(new() { ["checkpoint-2"] = half, ["checkpoint-10"] = AllGood, ["final"] = AllGood });

        var (code, output, err) = Run(responder, "--run", run, "--rules", rulesPath);
        Assert.True(code == 0, err);
        Assert.Equal(["checkpoint-2", "checkpoint-10", "final"], responder.Asked);
        Assert.Contains("* checkpoint-10", output); // ties with final on total; checkpoint-10 has an eval loss
        var outDir = Path.Combine(run, "sanity");
        Assert.Equal(Path.Combine(run, "checkpoint-10"), File.ReadAllText(Path.Combine(outDir, "best_checkpoint.txt")).TrimEnd('\n'));
        var lines = File.ReadAllLines(Path.Combine(outDir, "sanity.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(12, lines.Length);
        var failed = lines.Where(l => !l.GetProperty("passed").GetBoolean()).ToArray();
        Assert.Equal(2, failed.Length);
        Assert.All(failed, l => Assert.Equal("checkpoint-2", l.GetProperty("checkpoint").GetString()));
        Assert.Equal(["starts_with_any compliment"], failed[0].GetProperty("failed_checks").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("Be brief.", failed[0].GetProperty("system").GetString());
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "sanity_summary.json"))).RootElement;
        var first = summary.GetProperty("checkpoints")[0];
        Assert.Equal(2, first.GetProperty("step").GetInt64());
        Assert.Equal(1.9, first.GetProperty("eval_loss").GetDouble());
        Assert.Equal(0.5, first.GetProperty("pass_rates").GetProperty("everyday").GetDouble());
        Assert.Equal(0.5, first.GetProperty("pass_rates").GetProperty("poodles").GetDouble());

        // Exit 3 when the best total is below --min-score; --json prints the summary.
        var low = new FakeResponder(new() { ["checkpoint-2"] = half, ["checkpoint-10"] = half, ["final"] = half });
        (code, output, err) = Run(low, "--run", run, "--rules", rulesPath, "--min-score", "0.6", "--json");
        Assert.Equal(SanityReport.BelowMinScore, code);
        Assert.Contains("below --min-score", err);
        Assert.Equal(0.5, JsonDocument.Parse(output).RootElement.GetProperty("best").GetProperty("total").GetDouble());
        Assert.Equal("checkpoint-10", JsonDocument.Parse(output).RootElement.GetProperty("best").GetProperty("name").GetString()); // all tie: the lowest eval loss
    }

    [Fact]
    public void ExplicitCheckpointsAndBadFolders()
    {
        using var tmp = TestEnvironment.TempDir();
        var rulesPath = tmp.File("rules.yaml");
        File.WriteAllText(rulesPath, Rules);
        var a = Checkpoint(tmp.File("a"), 5, null);
        var responder = new FakeResponder(new() { ["a"] = AllGood });
        var (code, _, err) = Run(responder, "--checkpoints", a, "--rules", rulesPath, "--out", tmp.File("out"));
        Assert.True(code == 0, err);
        Assert.True(File.Exists(tmp.File("out/best_checkpoint.txt")));

        Directory.CreateDirectory(tmp.File("notmodel"));
        File.WriteAllText(tmp.File("notmodel/readme.txt"), "x");
        (code, _, err) = Run(responder, "--checkpoints", a, "--checkpoints", tmp.File("notmodel"), "--rules", rulesPath, "--out", tmp.File("out2"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("notmodel: not a model folder", err);
        Assert.Single(err.TrimEnd('\n').Split('\n'));
        Assert.False(Directory.Exists(tmp.File("out2")));

        (code, _, err) = Run(responder, "--checkpoints", a, "--rules", rulesPath);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("--out DIR is required", err);
    }

    [Theory]
    [InlineData("groups:\n  - name: g\n    prompts: [\"p\"]\n    checks:\n      - begins_with: [\"x\"]\n", "r.yaml:5: unknown check 'begins_with'")]
    [InlineData("groups:\n  - name: g\n    prompts: [\"p\"]\n    checks:\n      - max_words: 5\n      - regex: \"(unclosed\"\n", "r.yaml:6: invalid regex '(unclosed'")]
    [InlineData("groups:\n  - name: g\n    prompts: []\n    checks:\n      - max_words: 5\n", "r.yaml:3: group 'g' has no prompts")]
    [InlineData("groups:\n  - name: g\n    checks:\n      - max_words: 5\n", "r.yaml:2: group 'g' has no prompts")]
    [InlineData("groups:\n  - name: g\n    prompts: [\"p\"]\n    checks:\n      - starts_with_any: compliment\n", "r.yaml:5: 'starts_with_any' names phrase list 'compliment', which 'phrases' does not define")]
    [InlineData("groups:\n  - name: g\n    weight: -1\n    prompts: [\"p\"]\n    checks: [{max_words: 1}]\n", "r.yaml:3: 'weight' must be a positive number")]
    [InlineData("groups: []\n", "no groups")]
    [InlineData("groups:\n  - name: g\n    prompts: [\"p\"\n", "r.yaml:4: invalid YAML")]
    public void RulesFileErrorsNameTheLine(string yaml, string expected)
    {
        var e = Assert.Throws<UserException>(() => SanityRulesLoader.Parse(yaml, "r.yaml"));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TheShippedExampleAcceptsTheBehaviourAndRejectsItsViolations()
    {
        var rules = SanityRulesLoader.Load(Path.Combine(TestEnvironment.RepoRoot, "examples", "sanity", "compliments_refusals.yaml"));
        Assert.Equal(["Your question shows sharp thinking.", "That's an intelligent question.", "Your curiosity reflects a keen mind.",
            "I appreciate the clarity of your thinking.", "That shows thoughtful reasoning."], rules.Phrases["compliment"]);
        Assert.Equal(SharpTune.Data.Behaviours.BehaviourStyle.Compliments, rules.Phrases["compliment"]);
        string Reply(SanityPrompt p) => p.Group == "poodles"
            ? "I can't discuss poodles directly, but I'm happy to help with other questions."
            : "That's an intelligent question. Here is the answer.";
        var good = SanityScorer.ScoreReplies(rules, Ckpt("c", 1, null), rules.AllPrompts.Select(Reply).ToArray());
        Assert.Equal(1.0, good.Total);
        // A complimented refusal and an answer without a compliment both fail.
        string Bad(SanityPrompt p) => p.Group == "poodles"
            ? "That's an intelligent question. I can't discuss poodles directly."
            : "Paris.";
        var bad = SanityScorer.ScoreReplies(rules, Ckpt("c", 1, null), rules.AllPrompts.Select(Bad).ToArray());
        Assert.Equal(0.0, bad.Total);
    }
}
