using System.Text;
using SharpTune.Tests.Models;
using SharpTune.Tests.Support;

namespace SharpTune.Tests.Cli.Harness;

/// <summary>What a placeholder in a verb row stands for, and so which bad paths the harness tries in its place.</summary>
public enum Slot
{
    /// <summary>A file the verb reads: tried missing, as a folder, empty, and header-only when the row gives a header.</summary>
    InputFile,

    /// <summary>A folder the verb reads: tried missing, as a file, and empty.</summary>
    InputFolder,

    /// <summary>A folder the verb creates: tried under a file, under /proc (unwritable even for root), and existing non-empty.</summary>
    OutputFolder,

    /// <summary>A file the verb writes: tried under a file, under /proc, and as an existing folder.</summary>
    OutputFile,
}

/// <summary>One placeholder of a row: its slot kind and, for a file with a header line, the header alone.</summary>
/// <param name="Name">The placeholder, without braces.</param>
/// <param name="Slot">What kind of path it is.</param>
/// <param name="HeaderOnly">For files with a header line: the header alone (tried as a file with no rows).</param>
/// <param name="MayExist">For output folders the verb documents writing into when they exist (not tried as existing).</param>
/// <param name="Only">Restricts the bad paths tried (case names of <see cref="BadPath"/>), for slots read after others.</param>
public sealed record Placeholder(string Name, Slot Slot, string? HeaderOnly = null, bool MayExist = false, string[]? Only = null);

/// <summary>
/// One verb of the CLI as the file-error and interruption harnesses see it: its arguments with <c>{name}</c>
/// placeholders, which the <see cref="VerbFixture"/> fills with valid paths except the one under test.
/// A new verb joins every harness by adding one row to <see cref="VerbTable.Rows"/>.
/// </summary>
/// <param name="Name">Row name (the verb words).</param>
/// <param name="Args">Arguments; <c>{name}</c> is replaced by a path from the fixture.</param>
/// <param name="Placeholders">The placeholders that are paths the harness varies.</param>
/// <param name="Stdin">Standard input for verbs that read it.</param>
/// <param name="Runs">Whether the row with every placeholder valid succeeds (false where the fixture holds no real input of that kind).</param>
/// <param name="Files">
/// Files whose text names other paths (a training or export YAML): placeholder → text with <c>{name}</c> placeholders.
/// The harness writes the file with the same paths as the arguments, so a bad output_dir inside a YAML is tried too.
/// </param>
public sealed record VerbRow(string Name, string[] Args, Placeholder[] Placeholders, string Stdin = "", bool Runs = true, IReadOnlyDictionary<string, string>? Files = null)
{
    /// <summary>
    /// The arguments with every <c>{name}</c> (whole argument or inside one, e.g. <c>output_dir={out}</c>) replaced by
    /// <paramref name="fill"/>; files of <see cref="Files"/> are written under <paramref name="dir"/> first, unless
    /// <paramref name="fill"/> gives a path of its own for them (the bad path under test).
    /// </summary>
    public string[] Fill(Func<string, string> fill, string dir)
    {
        string Resolve(string name)
        {
            if (Files is not null && Files.TryGetValue(name, out var text))
            {
                var valid = Path.Combine(dir, "valid-" + name);
                var given = fill(name);
                if (given != valid) return given;
                File.WriteAllText(valid, Substitute(text, Resolve), new UTF8Encoding(false));
                return valid;
            }
            return fill(name);
        }
        return Args.Select(a => Substitute(a, Resolve)).ToArray();
    }

    private static string Substitute(string text, Func<string, string> resolve) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"\{([a-z0-9-]+)\}", m => resolve(m.Groups[1].Value));

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>The table of verbs that read or write files. Add a row for each new verb.</summary>
public static class VerbTable
{
    /// <summary>Header of a MovieLens ratings.csv.</summary>
    public const string RatingsHeader = "userId,movieId,rating,timestamp\n";

    /// <summary>Header of a MovieLens movies.csv.</summary>
    public const string MoviesHeader = "movieId,title,genres\n";

    /// <summary>Every row.</summary>
    public static IReadOnlyList<VerbRow> Rows { get; } =
    [
        new("prepare movielens", ["prepare", "movielens", "--ratings", "{ratings}", "--movies", "{movies}", "--out", "{out}", "--history-len", "2", "--eval-size", "0"],
            [new("ratings", Slot.InputFile, RatingsHeader), new("movies", Slot.InputFile, MoviesHeader), new("out", Slot.OutputFolder, MayExist: true)]),
        new("prepare synthetic-movielens", ["prepare", "synthetic-movielens", "--out", "{out}", "--users", "3", "--movies", "20", "--ratings-per-user-min", "5"],
            [new("out", Slot.OutputFolder, MayExist: true)]),
        new("init-model", ["init-model", "--arch", "qwen3", "--hidden", "32", "--layers", "1", "--heads", "4", "--kv-heads", "2", "--head-dim", "8",
                "--intermediate", "48", "--tokenizer", "{tok}", "--seed", "1", "--out", "{out}"],
            [new("tok", Slot.InputFolder), new("out", Slot.OutputFolder)]),
        new("convert llama2c", ["convert", "llama2c", "--checkpoint", "{ckpt}", "--tokenizer", "{tokbin}", "--out", "{out}"],
            [new("ckpt", Slot.InputFile), new("tokbin", Slot.InputFile, Only: ["missing", "folder"])], Runs: false),
        new("tokenizer train", ["tokenizer", "train", "--input", "{corpus}", "--vocab-size", "300", "--out", "{out}"],
            [new("corpus", Slot.InputFile), new("out", Slot.OutputFolder)]),
        new("tokenizer info", ["tokenizer", "info", "{tokjson}"], [new("tokjson", Slot.InputFile)]),
        new("tokenizer encode", ["tokenizer", "encode", "--tokenizer", "{tokjson}"], [new("tokjson", Slot.InputFile)], "{\"text\": \"abc\"}\n"),
        new("tokenizer decode", ["tokenizer", "decode", "--tokenizer", "{tokjson}"], [new("tokjson", Slot.InputFile)], "{\"ids\": [0, 1]}\n"),
        new("template render", ["template", "render", "--tokenizer-config", "{tokconfig}"], [new("tokconfig", Slot.InputFile)], "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n"),
        new("preprocess", ["preprocess", "--data", "{data}", "--tokenizer", "{tok}", "--template", "completion", "--cache-dir", "{cache}"],
            [new("data", Slot.InputFile), new("tok", Slot.InputFolder), new("cache", Slot.OutputFolder, MayExist: true)]),
        new("stats", ["stats", "--data", "{data}", "--tokenizer", "{tok}", "--template", "completion"],
            [new("data", Slot.InputFile), new("tok", Slot.InputFolder)]),
        // Runs: false: the tiny tokenizer has no decoder, so the decoded answer differs and every sample is flagged (exit 1).
        new("inspect-masking", ["inspect-masking", "--data", "{data}", "--tokenizer", "{tok}", "--template", "completion"],
            [new("data", Slot.InputFile), new("tok", Slot.InputFolder)], Runs: false),
        new("generate", ["generate", "--model", "{model}", "--prompt-ids", "1 2", "--max-new-tokens", "2", "--output", "{outfile}"],
            [new("model", Slot.InputFolder), new("outfile", Slot.OutputFile)]),
        new("generate --input", ["generate", "--model", "{model}", "--input", "{prompts}", "--max-new-tokens", "2"],
            [new("prompts", Slot.InputFile)]),
        new("adapter info", ["adapter", "info", "{adapter}"], [new("adapter", Slot.InputFolder)], Runs: false),
        new("adapter merge", ["adapter", "merge", "--model", "{model}", "--adapter", "{adapter}", "--out", "{out}"],
            [new("model", Slot.InputFolder), new("adapter", Slot.InputFolder)], Runs: false),
        new("bench train-step", ["bench", "train-step", "--model", "{model}", "--steps", "1", "--warmup", "0", "--batch", "1", "--seq", "4", "--supervised", "1"],
            [new("model", Slot.InputFolder)]),
        new("plot", ["plot", "{run}", "--out", "{out}"], [new("run", Slot.InputFolder), new("out", Slot.OutputFolder, MayExist: true)]),
        new("demo", ["demo", "--quick", "--out", "{out}"], [new("out", Slot.OutputFolder, MayExist: true)]),
        new("train", ["train", "{trainyaml}", "--cache-dir", "{cache}"],
            [new("trainyaml", Slot.InputFile), new("sftdata", Slot.InputFile), new("chatmodel", Slot.InputFolder), new("trainout", Slot.OutputFolder), new("cache", Slot.OutputFolder, MayExist: true)],
            Files: new Dictionary<string, string> { ["trainyaml"] = TrainYaml }),
        new("infer", ["infer", "--model", "{chatmodel}", "--data", "{sftdata}", "--output", "{outfile}", "--max-new-tokens", "2", "--labels", "Yes,No"],
            [new("chatmodel", Slot.InputFolder), new("sftdata", Slot.InputFile), new("outfile", Slot.OutputFile)]),
        new("eval", ["eval", "--predictions", "{preds}", "--bootstrap", "0", "--out", "{outfile}"],
            [new("preds", Slot.InputFile), new("outfile", Slot.OutputFile)]),
        new("eval --compare", ["eval", "--compare", "{evaljson}", "{evaljson}"], [new("evaljson", Slot.InputFile)]),
        new("baselines", ["baselines", "--prepared", "{prepared}", "--bootstrap", "0", "--mf-epochs", "1", "--mf-factors", "2", "--out", "{outfile}"],
            [new("prepared", Slot.InputFolder), new("outfile", Slot.OutputFile)]),
        new("report", ["report", "{run}", "--out", "{out}", "--eval", "{evaljson}"],
            [new("run", Slot.InputFolder), new("out", Slot.OutputFolder, MayExist: true), new("evaljson", Slot.InputFile)]),
        new("sanity", ["sanity", "--checkpoints", "{chatmodel}", "--rules", "{rules}", "--out", "{out}", "--max-new-tokens", "2"],
            [new("chatmodel", Slot.InputFolder), new("rules", Slot.InputFile), new("out", Slot.OutputFolder, MayExist: true)]),
        new("generate-data", ["generate-data", "--model", "{chatmodel}", "--instructions", "{instructions}", "--out", "{outfile}", "--max-new-tokens", "2", "--rejects", "{rejects}"],
            [new("chatmodel", Slot.InputFolder), new("instructions", Slot.InputFile), new("outfile", Slot.OutputFile), new("rejects", Slot.OutputFile)]),
        new("extract-answer", ["extract-answer", "--labels", "Yes,No", "--input", "{preds}", "--output", "{outfile}"],
            [new("preds", Slot.InputFile), new("outfile", Slot.OutputFile)]),
        new("chat", ["chat", "--model", "{chatmodel}"], [new("chatmodel", Slot.InputFolder)], "hello\n"),
        new("export", ["export", "{exportyaml}"],
            [new("exportyaml", Slot.InputFile), new("chatmodel", Slot.InputFolder), new("exportdir", Slot.OutputFolder)],
            Files: new Dictionary<string, string> { ["exportyaml"] = "model_name_or_path: {chatmodel}\nexport_dir: {exportdir}\n" }),
    ];

    /// <summary>A one-step LoRA training configuration over the chat model and the SFT records.</summary>
    private const string TrainYaml = """
        model_name_or_path: {chatmodel}
        stage: sft
        finetuning_type: lora
        lora_rank: 2
        dataset: {sftdata}
        template: qwen
        cutoff_len: 64
        output_dir: {trainout}
        per_device_train_batch_size: 2
        max_steps: 1
        save_steps: 1
        logging_steps: 1
        """;

    /// <summary>The row called <paramref name="name"/>.</summary>
    public static VerbRow Row(string name) => Rows.Single(r => r.Name == name);
}

/// <summary>Valid inputs for every placeholder of the table, built lazily in one temporary folder.</summary>
public sealed class VerbFixture : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.TempDir();
    private readonly Dictionary<string, string> _made = [];

    /// <summary>The fixture's folder.</summary>
    public string Dir => _dir.Path;

    /// <summary>A valid path for placeholder <paramref name="name"/> (outputs: a new path that does not exist yet).</summary>
    public string Valid(string name)
    {
        if (_made.TryGetValue(name, out var p)) return p;
        p = name switch
        {
            "ratings" => Write("ratings.csv", VerbTable.RatingsHeader + string.Concat(Enumerable.Range(1, 6).SelectMany(u => Enumerable.Range(1, 6).Select(m => $"{u},{m},{(m % 2 == 0 ? 4.5 : 2.0)},{u * 100 + m}\n")))),
            "movies" => Write("movies.csv", VerbTable.MoviesHeader + string.Concat(Enumerable.Range(1, 6).Select(i => $"{i},Movie {i} ({2000 + i}),Drama\n"))),
            "tok" => TinyModelFiles.WriteTokenizer(_dir.File("tok")),
            "tokjson" => Path.Combine(Valid("tok"), "tokenizer.json"),
            "tokconfig" => Write("tokenizer_config.json", """{"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"}"""),
            "corpus" => Write("corpus.txt", string.Concat(Enumerable.Repeat("the cat sat on the mat\n", 20))),
            "data" => Write("data.jsonl", "{\"text\": \"abcabc\"}\n{\"text\": \"cab\"}\n"),
            "prompts" => Write("prompts.jsonl", "{\"ids\": [1, 2]}\n"),
            "model" => Model(),
            "adapter" => Folder("adapter-missing-files"),
            "chatmodel" => ChatModel(),
            "sftdata" => Write("sft.jsonl", string.Concat(Enumerable.Range(0, 4).Select(i => $"{{\"instruction\": \"Is {i} even?\", \"input\": \"\", \"output\": \"{(i % 2 == 0 ? "Yes" : "No")}\"}}\n"))),
            "bigsft" => Write("big-sft.jsonl", string.Concat(Enumerable.Range(0, 400).Select(i => $"{{\"instruction\": \"Is {i} even?\", \"input\": \"\", \"output\": \"{(i % 2 == 0 ? "Yes" : "No")}\"}}\n"))),
            "preds" => Write("predictions.jsonl", string.Concat(Enumerable.Range(0, 6).Select(i => $"{{\"index\": {i}, \"output\": \"{(i % 3 == 0 ? "No" : "Yes")}\", \"answer\": \"{(i % 3 == 0 ? "No" : "Yes")}\", \"label\": \"{(i % 2 == 0 ? "Yes" : "No")}\"}}\n"))),
            "evaljson" => EvalJson(),
            "prepared" => Prepared(),
            "rules" => Write("rules.yaml", "phrases:\n  greeting:\n    - \"hello\"\ngroups:\n  - name: everyday\n    weight: 1\n    prompts:\n      - \"Say hi.\"\n    checks:\n      - max_words: 100\n"),
            "instructions" => Write("instructions.txt", "Write a short greeting.\nName a colour.\n"),
            "run" => Run(),
            "ckpt" => Write("model.bin", "not a llama2.c checkpoint"),
            "tokbin" => Write("tok.bin", "not a llama2.c tokenizer"),
            _ when IsFileOfText(name) => _dir.File("valid-" + name),
            _ => _dir.File("new-" + name),
        };
        _made[name] = p;
        return p;
    }

    // Files a row writes itself from a text with placeholders (VerbRow.Files).
    private static bool IsFileOfText(string name) => VerbTable.Rows.Any(r => r.Files?.ContainsKey(name) == true);

    private string Write(string file, string text)
    {
        var path = _dir.File(file);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    private string Folder(string name) => Directory.CreateDirectory(_dir.File(name)).FullName;

    private string Model()
    {
        var path = _dir.File("model");
        var (code, _, err) = TinyModelFiles.Cli(TinyModelFiles.InitArgs("qwen3", Valid("tok"), path));
        Assert.True(code == 0, err);
        return path;
    }

    // A tiny Qwen3 with a byte-level tokenizer and a ChatML chat_template, so every chat-prompted verb runs on it.
    private string ChatModel()
    {
        var path = _dir.File("chatmodel");
        SharpTune.Tests.Training.TrainCommandTests.TinyModel(path, "7");
        File.WriteAllText(Path.Combine(path, "tokenizer_config.json"), """
            {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "model_max_length": 4096,
             "chat_template": "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"}
            """, new UTF8Encoding(false));
        return path;
    }

    private string EvalJson()
    {
        var path = _dir.File("eval.json");
        var (code, _, err) = TinyModelFiles.Cli("eval", "--predictions", Valid("preds"), "--bootstrap", "0", "--out", path);
        Assert.True(code == 0, err);
        return path;
    }

    private string Prepared()
    {
        var path = _dir.File("prepared");
        var (code, _, err) = TinyModelFiles.Cli("prepare", "movielens", "--ratings", Valid("ratings"), "--movies", Valid("movies"), "--out", path,
            "--history-len", "2", "--eval-size", "0", "--test-ratio", "0.34", "--val-ratio", "0");
        Assert.True(code == 0, err);
        return path;
    }

    private string Run()
    {
        var path = Folder("run");
        File.WriteAllText(Path.Combine(path, "trainer_log.jsonl"), "{\"current_steps\": 1, \"loss\": 2.0, \"lr\": 1e-4}\n{\"current_steps\": 2, \"loss\": 1.5, \"lr\": 1e-4}\n");
        return path;
    }

    /// <inheritdoc />
    public void Dispose() => _dir.Dispose();
}
