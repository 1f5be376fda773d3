using SharpTune.Cli.CommandLine;
using SharpTune.IO;
using SharpTune.Models;
using SharpTune.Models.Safetensors;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune convert ...</c>: other checkpoint formats into Hugging Face model folders.</summary>
internal static class ConvertCommand
{
    public static CliCommand Create() =>
        new CliCommand("convert", "Convert other checkpoint formats into Hugging Face model folders.")
            .Add(new CliCommand("llama2c", "Convert a llama2.c checkpoint and tokenizer (e.g. stories260K.bin, tok512.bin) into a LlamaForCausalLM folder.")
            {
                Description = "Reads llama2.c's legacy (version 0) export: fp32 weights, RoPE on interleaved pairs (wq/wk are permuted to\n"
                    + "transformers' rotate-half layout). The tokenizer .bin becomes a SentencePiece-style BPE tokenizer.json with byte\n"
                    + "fallback, as transformers' LlamaConverter writes for Llama-2. The output folder must not exist or be empty.",
            }
                .Option("checkpoint", "llama2.c checkpoint (.bin).", "FILE", required: true)
                .Option("tokenizer", "llama2.c tokenizer (.bin) with as many tokens as the checkpoint's vocab.", "FILE", required: true)
                .Option("out", "Output folder (new or empty).", "DIR", required: true)
                .Handle(RunLlama2c));

    private static int RunLlama2c(ParsedArgs a)
    {
        var checkpoint = a.ExistingFile("checkpoint");
        var tokenizer = a.ExistingFile("tokenizer");
        var outDir = a.RequiredString("out");
        var (config, weights) = Llama2cCheckpoint.Read(checkpoint);
        using (weights)
        {
            var pieces = Llama2cTokenizer.ReadPieces(tokenizer, config.VocabSize);
            var tokenizerJson = Llama2cTokenizer.TokenizerJson(pieces);
            AtomicDirectory.Create(outDir, tmp =>
            {
                ModelConfigJson.Save(Path.Combine(tmp, "config.json"), config);
                SafetensorsWriter.Write(Path.Combine(tmp, SafetensorsCheckpoint.SingleFileName), weights, new Dictionary<string, string> { ["format"] = "pt" });
                AtomicFile.WriteAllBytes(Path.Combine(tmp, "tokenizer.json"), tokenizerJson);
                AtomicFile.WriteAllBytes(Path.Combine(tmp, "tokenizer_config.json"), Llama2cTokenizer.TokenizerConfigJson(config.MaxPositionEmbeddings));
            });
            a.Out.WriteLine($"wrote {outDir}: LlamaForCausalLM, {CheckpointLayout.For(config).ParameterCount:N0} parameters, vocab {config.VocabSize}, context {config.MaxPositionEmbeddings}");
        }
        return CliApp.Success;
    }
}
