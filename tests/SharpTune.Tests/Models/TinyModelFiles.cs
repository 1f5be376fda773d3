using System.Text;
using SharpTune.Cli;
using SharpTune.Cli.CommandLine;

using SharpTune.Tests.Support;

namespace SharpTune.Tests.Models;

/// <summary>Tiny tokenizer folders and CLI runs shared by the checkpoint tests.</summary>
internal static class TinyModelFiles
{
    /// <summary>
    /// Writes tokenizer.json (a 10-entry BPE vocab plus added tokens &lt;s&gt;=10, &lt;/s&gt;=11, &lt;pad&gt;=13 — id 12
    /// unused, so the vocab size is 14) and tokenizer_config.json naming &lt;s&gt; and &lt;/s&gt;.
    /// </summary>
    public static string WriteTokenizer(string dir, string bos = "<s>", string eos = "</s>", bool specialTokensMap = false)
    {
        Directory.CreateDirectory(dir);
        var vocab = "{" + string.Join(", ", "abcdefghij".Select((c, i) => $"\"{c}\": {i}")) + "}";
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), $$"""
            {"version": "1.0", "added_tokens": [
              {"id": 10, "content": "<s>", "special": true},
              {"id": 11, "content": "</s>", "special": true},
              {"id": 13, "content": "<pad>", "special": true}],
             "model": {"type": "BPE", "vocab": {{vocab}}, "merges": []} }
            """, new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), $$"""{"bos_token": "{{bos}}", "eos_token": {"content": "{{eos}}"}, "model_max_length": 128}""", new UTF8Encoding(false));
        if (specialTokensMap) File.WriteAllText(Path.Combine(dir, "special_tokens_map.json"), """{"bos_token": "<s>"}""");
        return dir;
    }

    /// <summary>Runs the real CLI tree in-process.</summary>
    public static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = new CliApp(CommandTree.Root()).Run(args, o, e, new StringReader(""));
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>init-model arguments for a small model of <paramref name="arch"/>.</summary>
    public static string[] InitArgs(string arch, string tokenizer, string outDir, string seed = "7", params string[] extra) =>
        ["init-model", "--arch", arch, "--hidden", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--head-dim", "8",
         "--intermediate", "48", "--tokenizer", tokenizer, "--seed", seed, "--out", outDir, .. extra];
}
