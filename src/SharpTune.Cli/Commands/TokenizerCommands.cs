using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SharpTune.Cli.CommandLine;
using SharpTune.IO;
using SharpTune.Text.Tokenization;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune tokenizer encode|decode|info|train</c>.</summary>
internal static class TokenizerCommands
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static CliCommand Create()
    {
        var group = new CliCommand("tokenizer", "Encode, decode, inspect and train Hugging Face tokenizers (tokenizer.json).")
        {
            Description = "Ids are identical to Hugging Face tokenizers for the same tokenizer.json. Offsets are in Unicode code points.",
        };
        group.Add(new CliCommand("encode", "JSONL {\"text\": ...} on stdin -> JSONL {\"ids\": [...]} on stdout.")
            {
                Description = "Added/special tokens written in the text are always recognised; --add-special-tokens controls the\n"
                    + "post-processor's template (e.g. BOS). --offsets adds \"offsets\": [[start, end], ...] in Unicode code points\n"
                    + "of the text (as Hugging Face reports them); --tokens adds \"tokens\": the vocabulary strings.",
            }
            .Option("tokenizer", "Path to tokenizer.json.", "PATH", required: true)
            .Option("add-special-tokens", "Apply the post-processor template (BOS/EOS).", "true|false", "true")
            .Flag("offsets", "Add \"offsets\" (Unicode code points).")
            .Flag("tokens", "Add \"tokens\" (token strings).")
            .Handle(Encode));
        group.Add(new CliCommand("decode", "JSONL {\"ids\": [...]} on stdin -> JSONL {\"text\": ...} on stdout.")
            .Option("tokenizer", "Path to tokenizer.json.", "PATH", required: true)
            .Flag("skip-special-tokens", "Leave special tokens out of the text.")
            .Handle(Decode));
        group.Add(new CliCommand("info", "Model type, vocabulary size, special tokens and pipeline of a tokenizer.json.")
            .Argument("PATH", "Path to tokenizer.json.")
            .Handle(Info));
        group.Add(new CliCommand("train", "Train a byte-level BPE tokenizer; writes tokenizer.json and tokenizer_config.json.")
            {
                Description = "Input files are plain text (one text per line) or JSONL (.jsonl/.json, or lines starting with '{')\n"
                    + "with a string field (--text-field). The pipeline is Qwen2/Qwen3's: Qwen's pre-tokenizer regex, then\n"
                    + "byte-level BPE; special tokens get the ids after the learned vocabulary, in the order given. With\n"
                    + "<|im_start|> and <|im_end|> among them, tokenizer_config.json gets a ChatML chat template and\n"
                    + "eos_token <|im_end|>; <|endoftext|> becomes pad_token.",
            }
            .Option("input", "Training text file (repeatable, or comma-separated).", "FILE", required: true, repeatable: true)
            .Option("vocab-size", "Total vocabulary size including the 256 byte tokens and the special tokens.", "N", required: true)
            .Option("special-tokens", "Special tokens, comma-separated (repeatable).", "TOKENS", "<|endoftext|>,<|im_start|>,<|im_end|>", repeatable: true)
            .Option("min-frequency", "Merge only pairs seen at least this often.", "N", "2")
            .Option("text-field", "Field holding the text in JSONL input.", "NAME", "text")
            .Option("out", "Output directory.", "DIR", required: true)
            .Handle(Train));
        return group;
    }

    private static IEnumerable<(int Line, JsonElement Root)> ReadJsonl(TextReader input)
    {
        int lineNo = 0;
        string? line;
        while ((line = input.ReadLine()) is not null)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(JsonLoneSurrogates.Replace(line)); }
            catch (JsonException e) { throw new UserException($"stdin line {lineNo}: not valid JSON: {e.Message.Split(". ")[0]}"); }
            using (doc) yield return (lineNo, doc.RootElement.Clone());
        }
    }

    private static int Encode(ParsedArgs a)
    {
        var tokenizer = Tokenizer.Load(a.ExistingFile("tokenizer"));
        bool special = a.Bool("add-special-tokens"), offsets = a.Bool("offsets"), tokens = a.Bool("tokens");
        var sb = new StringBuilder();
        foreach (var (line, root) in ReadJsonl(a.In))
        {
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                throw new UserException($"stdin line {line}: expected an object with a string field \"text\"");
            var text = t.GetString()!;
            var enc = tokenizer.Encode(text, special);
            sb.Clear();
            sb.Append("{\"ids\":[");
            AppendJoined(sb, enc.Ids);
            sb.Append(']');
            if (offsets)
            {
                sb.Append(",\"offsets\":[");
                var cps = enc.GetCodePointOffsets(text);
                for (int i = 0; i < cps.Length; i++)
                {
                    if (i > 0) sb.Append(',');
                    sb.Append('[').Append(cps[i].Start.ToString(CultureInfo.InvariantCulture)).Append(',').Append(cps[i].End.ToString(CultureInfo.InvariantCulture)).Append(']');
                }
                sb.Append(']');
            }
            if (tokens) sb.Append(",\"tokens\":").Append(JsonSerializer.Serialize(enc.Tokens, Json));
            sb.Append('}');
            a.Out.WriteLine(sb.ToString());
        }
        return CliApp.Success;
    }

    private static void AppendJoined(StringBuilder sb, int[] ids)
    {
        for (int i = 0; i < ids.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(ids[i].ToString(CultureInfo.InvariantCulture));
        }
    }

    private static int Decode(ParsedArgs a)
    {
        var tokenizer = Tokenizer.Load(a.ExistingFile("tokenizer"));
        bool skip = a.Bool("skip-special-tokens");
        foreach (var (line, root) in ReadJsonl(a.In))
        {
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("ids", out var idsJson) || idsJson.ValueKind != JsonValueKind.Array)
                throw new UserException($"stdin line {line}: expected an object with an array field \"ids\"");
            var ids = new int[idsJson.GetArrayLength()];
            int i = 0;
            foreach (var x in idsJson.EnumerateArray())
            {
                if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt32(out ids[i]))
                    throw new UserException($"stdin line {line}: ids[{i}] is not an integer");
                i++;
            }
            string text;
            try { text = tokenizer.Decode(ids, skip); }
            catch (UserException e) { throw new UserException($"stdin line {line}: {e.Message}"); }
            a.Out.WriteLine("{\"text\":" + JsonSerializer.Serialize(text, Json) + "}");
        }
        return CliApp.Success;
    }

    private static int Info(ParsedArgs a)
    {
        var path = a.Positionals[0];
        var t = Tokenizer.Load(path);
        var o = a.Out;
        o.WriteLine($"tokenizer: {path}");
        o.WriteLine($"model: {t.ModelType}{(t.IsByteLevel ? " (byte-level)" : "")}");
        o.WriteLine($"vocab size: {t.VocabSize} (with added tokens; max id {t.MaxId})");
        var specials = t.AddedTokens.Where(x => x.Special).ToList();
        o.WriteLine($"added tokens: {t.AddedTokens.Count} ({specials.Count} special)");
        foreach (var s in specials.Take(20)) o.WriteLine($"  {s.Id,8}  {JsonSerializer.Serialize(s.Content, Json)}");
        if (specials.Count > 20) o.WriteLine($"  ... {specials.Count - 20} more special tokens");
        o.WriteLine("pipeline:");
        foreach (var (component, description) in t.DescribePipeline()) o.WriteLine($"  {component}: {description}");
        if (t.Config is { } c)
        {
            o.WriteLine("tokenizer_config.json:");
            o.WriteLine($"  bos_token: {c.BosToken ?? "null"}, eos_token: {c.EosToken ?? "null"}, pad_token: {c.PadToken ?? "null"}, unk_token: {c.UnkToken ?? "null"}");
            o.WriteLine($"  add_bos_token: {Fmt(c.AddBosToken)}, add_eos_token: {Fmt(c.AddEosToken)}, model_max_length: {(c.ModelMaxLength is { } m ? m.ToString("R", CultureInfo.InvariantCulture) : "null")}");
            o.WriteLine($"  chat templates: {(c.ChatTemplates.Count == 0 ? "none" : string.Join(", ", c.ChatTemplates.Keys))}");
        }
        return CliApp.Success;
    }

    private static string Fmt(bool? b) => b is null ? "null" : b.Value ? "true" : "false";

    private static int Train(ParsedArgs a)
    {
        var inputs = a.List("input").SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
        foreach (var f in inputs)
        {
            if (Directory.Exists(f)) throw new UserException($"--input: {f}: is a directory; expected a text or JSONL file");
            SharpTune.IO.InputPaths.RequireFile(f, $"--input: file not found: {f}");
        }
        var outDir = a.RequiredString("out");
        // Refuse before the (long) training, as every other verb that creates a folder does.
        if (File.Exists(outDir)) throw new UserException($"--out: {outDir} exists and is a file (expected a new folder)");
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new UserException($"--out: {outDir}: folder exists and is not empty; choose a new folder (nothing is overwritten)");
        var specials = a.List("special-tokens").SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        var options = new BpeTrainerOptions(a.Int("vocab-size", 1), specials, a.Int("min-frequency", 1));
        var field = a.RequiredString("text-field");
        var texts = inputs.SelectMany(f => TrainingTexts.Read(f, field));
        var trained = BpeTrainer.Train(texts, options);
        if (trained.WordsSeen == 0)
            throw new UserException($"--input: no text in {string.Join(", ", inputs)}; a tokenizer cannot be trained on an empty corpus");
        AtomicDirectory.Create(outDir, tmp => TokenizerJsonWriter.Write(trained, tmp));
        var path = Path.Combine(outDir, "tokenizer.json");
        a.Error.WriteLine($"trained {trained.Merges.Count} merges from {trained.WordsSeen} distinct words; vocabulary {trained.Vocab.Count} + {trained.SpecialTokens.Count} special tokens");
        if (trained.Vocab.Count + trained.SpecialTokens.Count < options.VocabSize)
            a.Error.WriteLine($"note: stopped at {trained.Vocab.Count + trained.SpecialTokens.Count} < --vocab-size {options.VocabSize}: no pair left with frequency >= {options.MinFrequency}");
        a.Out.WriteLine(path);
        return CliApp.Success;
    }
}
