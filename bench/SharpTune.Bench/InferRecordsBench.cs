using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpTune.Models;

namespace SharpTune.Bench;

/// <summary>
/// Writes MovieLens-like prompt/completion records whose prompts are exactly <c>--tokens</c> tokens with a model
/// folder's tokenizer (encoded as <c>infer</c> encodes a prompt/completion record: the prompt text as is, no special
/// tokens), and the same token ids as JSON for the PyTorch peer (bench/infer/peer_infer.py), so both run the same ids.
/// Every prompt starts with the same system text and instruction (as MovieLens prompts do) and then differs.
/// Usage: <c>infer-records --model DIR --out RECORDS.jsonl --ids IDS.json [--count 64] [--tokens 440] [--seed 1]</c>.
/// </summary>
internal static class InferRecordsBench
{
    private static readonly string[] Words = ["Night", "Summer", "River", "Empire", "Dream", "Hidden", "Golden", "Storm", "Letter", "Mirror",
        "Witness", "Heart", "Legacy", "Symphony", "Horizon", "Kingdom", "Circus", "Detective", "City", "Game", "Electric", "Bitter", "Fragile", "Distant"];

    public static int Run(string[] args)
    {
        string model = Arg(args, "--model", ""), outPath = Arg(args, "--out", ""), idsPath = Arg(args, "--ids", "");
        int count = int.Parse(Arg(args, "--count", "64"), CultureInfo.InvariantCulture);
        int tokens = int.Parse(Arg(args, "--tokens", "440"), CultureInfo.InvariantCulture);
        var rng = new Random(int.Parse(Arg(args, "--seed", "1"), CultureInfo.InvariantCulture));
        using var folder = ModelFolder.Open(model);
        var tokenizer = folder.Tokenizer ?? throw new InvalidOperationException("no tokenizer");
        const string Head = "You are a movie recommendation assistant. Given a user's recent history and a candidate movie, answer Yes or No.\n\n"
            + "Predict whether the user will like the candidate movie. Answer only with Yes or No.\n\nUser's last watched movies:\n";
        string Title() => $"{Words[rng.Next(Words.Length)]} {Words[rng.Next(Words.Length)]} ({rng.Next(1950, 2020)})";
        var ids = new List<int[]>();
        using var records = new StreamWriter(outPath);
        for (int r = 0; r < count; r++)
        {
            string tail = $"\nCandidate movie:\n{Title()}\n\nShould we recommend this movie to the user? Answer Yes or No.\nAnswer:";
            var lines = new StringBuilder();
            for (int k = 1; ; k++)
            {
                var line = $"{k}. {Title()} (rating ≈ {rng.Next(1, 6)}.0)\n";
                if (tokenizer.Encode(Head + lines + line + tail, false).Length > tokens - 4) break;
                lines.Append(line);
            }
            // Pad with one-token words up to the exact length.
            string text;
            int[] encoded;
            var pad = new StringBuilder();
            while (true)
            {
                text = Head + lines + pad + tail;
                encoded = tokenizer.Encode(text, false);
                if (encoded.Length >= tokens) break;
                pad.Append(" x");
            }
            if (encoded.Length != tokens) throw new InvalidOperationException($"record {r}: {encoded.Length} tokens, wanted {tokens}");
            ids.Add(encoded);
            records.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["prompt"] = text, ["completion"] = "Yes", ["id"] = r }));
        }
        File.WriteAllText(idsPath, JsonSerializer.Serialize(new { ids }));
        Console.WriteLine($"{count} records of {tokens} tokens in {outPath}, ids in {idsPath}");
        return 0;
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
