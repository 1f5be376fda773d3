using System.Globalization;
using SharpTune.Cli.CommandLine;
using SharpTune.Training;

namespace SharpTune.Cli.Commands;

/// <summary><c>sharptune adapter merge|info</c>: LoRA adapters in PEFT's folder layout.</summary>
internal static class AdapterCommands
{
    public static CliCommand Create() =>
        new CliCommand("adapter", "Inspect LoRA adapters (PEFT layout) and merge them into their base models.")
            .Add(new CliCommand("merge", "Merge a LoRA adapter into its base model: a full model folder with W + scaling·B·A.")
            {
                Description = "Reads --model (config.json, safetensors weights) and --adapter (adapter_config.json, adapter_model.safetensors,\n"
                    + "as PEFT's save_pretrained writes them), computes every adapted weight in float32 and stores it in the base\n"
                    + "weight's dtype. --out gets config.json, model.safetensors and the tokenizer files of --model; it must not exist\n"
                    + "or be empty, and appears only when complete.",
            }
                .Option("model", "Base model folder.", "DIR", required: true)
                .Option("adapter", "PEFT LoRA adapter folder.", "DIR", required: true)
                .Option("out", "Output model folder (new or empty).", "DIR", required: true)
                .Handle(Merge))
            .Add(new CliCommand("info", "r, alpha, scaling, targets, modules and parameter count of a PEFT LoRA adapter folder.")
                .Argument("DIR", "Adapter folder (adapter_config.json, adapter_model.safetensors).")
                .Handle(Info));

    private static int Merge(ParsedArgs a)
    {
        var model = a.RequiredString("model");
        var adapterDir = a.RequiredString("adapter");
        var outDir = a.RequiredString("out");
        var adapter = AdapterMerger.MergeFolder(model, adapterDir, outDir);
        var c = adapter.Config;
        a.Out.WriteLine($"wrote {outDir}: merged {adapter.Modules.Count} modules (r {c.Rank}, scaling {Num(c.Scaling)}) of {adapterDir} into {model}");
        return CliApp.Success;
    }

    private static int Info(ParsedArgs a)
    {
        var info = PeftAdapter.ReadInfo(a.Positionals[0]);
        var c = info.Config;
        var o = a.Out;
        o.WriteLine($"adapter: {info.Directory}");
        o.WriteLine($"base_model_name_or_path: {info.BaseModelNameOrPath ?? "null"}");
        o.WriteLine($"task_type: {info.TaskType ?? "null"}");
        o.WriteLine($"r: {c.Rank}");
        o.WriteLine($"lora_alpha: {Num(c.Alpha)}");
        o.WriteLine($"scaling: {Num(c.Scaling)} ({(c.UseRslora ? "lora_alpha / sqrt(r), rsLoRA" : "lora_alpha / r")})");
        o.WriteLine($"lora_dropout: {Num(c.Dropout)}");
        o.WriteLine($"target_modules: {string.Join(", ", c.Targets.Select(t => t.ModuleName()))}");
        o.WriteLine($"modules: {info.Modules.Count} ({info.Layers} layers × {c.Targets.Count} targets)");
        foreach (var t in c.Targets)
        {
            var m = info.Modules.First(x => x.Target == t);
            o.WriteLine($"  {t.ModulePath()}: A [{c.Rank}, {m.InFeatures}], B [{m.OutFeatures}, {c.Rank}]");
        }
        o.WriteLine($"parameters: {info.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)}");
        return CliApp.Success;
    }

    private static string Num(double d) => d.ToString("0.######", CultureInfo.InvariantCulture);
}
