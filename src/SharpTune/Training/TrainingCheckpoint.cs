using System.Text.Json;
using SharpTune.IO;
using SharpTune.Models;
using SharpTune.Models.Safetensors;
using SharpTune.Preprocessing;

namespace SharpTune.Training;

/// <summary>
/// A resumable training checkpoint folder: the trainable parameters (LoRA: <c>adapter_config.json</c> +
/// <c>adapter_model.safetensors</c> in PEFT's layout, loadable by PEFT as they are; full: <c>config.json</c> +
/// <c>model.safetensors</c>, a Hugging Face checkpoint), AdamW's moments in <c>optimizer.safetensors</c>
/// (<c>NAME.exp_avg</c>, <c>NAME.exp_avg_sq</c>) and <c>sharptune_state.json</c> (mode, step, seed, hyper-parameters;
/// <c>trainer_state.json</c> is left to the training loop, which writes transformers' <c>TrainerState</c> there).
/// Everything is fp32 and exact, so a run resumed from a checkpoint continues bit for bit as the uninterrupted run
/// would. With the prompt settings of the data it was trained on, the folder also holds <c>prompt_settings.json</c>
/// (<see cref="PromptSettingsFile"/>), from which inference renders prompts as training did. The folder is written under a temporary name and appears complete or not at all.
/// </summary>
public static class TrainingCheckpoint
{
    /// <summary>The optimizer moments.</summary>
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>The engine's own state (mode, step, seed, hyper-parameters).</summary>
    public const string StateFile = "sharptune_state.json";

    /// <summary>Full fine-tuning's weights.</summary>
    public const string ModelFile = "model.safetensors";

    private const int FormatVersion = 1;

    /// <summary>
    /// Writes <paramref name="trainer"/>'s state into the new folder <paramref name="directory"/>, with
    /// <paramref name="promptSettings"/> (the preprocessed data's, template text resolved) as <c>prompt_settings.json</c> when given.
    /// </summary>
    public static void Save(string directory, Trainer trainer, string? baseModelPath = null, PromptSettings? promptSettings = null) =>
        AtomicDirectory.Create(directory, tmp => WriteInto(tmp, trainer, baseModelPath, promptSettings));

    /// <summary>Writes the checkpoint's files into the existing folder <paramref name="tmp"/> (a caller's temporary folder).</summary>
    internal static void WriteInto(string tmp, Trainer trainer, string? baseModelPath, PromptSettings? promptSettings = null)
    {
        var model = trainer.Model;
        {
            if (model.Mode == FineTuningMode.Lora)
            {
                // PEFT's files go in the folder itself; PeftAdapter.Save wants a new folder, so stage them beside it.
                var staged = Path.Combine(tmp, ".adapter");
                PeftAdapter.Save(staged, model.ExportAdapter(), baseModelPath);
                foreach (var f in Directory.GetFiles(staged)) File.Move(f, Path.Combine(tmp, Path.GetFileName(f)));
                Directory.Delete(staged);
            }
            else
            {
                ModelConfigJson.Save(Path.Combine(tmp, "config.json"), model.Config);
                SafetensorsWriter.Write(Path.Combine(tmp, ModelFile), model.ExportParameters(), new Dictionary<string, string> { ["format"] = "pt" });
            }
            SafetensorsWriter.Write(Path.Combine(tmp, OptimizerFile), trainer.Optimizer.ExportState());
            var o = trainer.Optimizer.Options;
            var state = new Dictionary<string, object?>
            {
                ["format_version"] = FormatVersion,
                ["mode"] = model.Mode == FineTuningMode.Lora ? "lora" : "full",
                ["global_step"] = trainer.Optimizer.Steps,
                ["seed"] = trainer.Seed,
                ["parameters"] = model.Parameters.Count,
                ["optimizer"] = new Dictionary<string, object?>
                {
                    ["learning_rate"] = o.LearningRate, ["beta1"] = o.Beta1, ["beta2"] = o.Beta2, ["epsilon"] = o.Epsilon,
                    ["weight_decay"] = o.WeightDecay, ["max_grad_norm"] = o.MaxGradNorm,
                },
                ["schedule"] = new Dictionary<string, object?>
                {
                    ["type"] = trainer.Schedule.Type.ToString().ToLowerInvariant(), ["warmup_steps"] = trainer.Schedule.WarmupSteps, ["total_steps"] = trainer.Schedule.TotalSteps,
                },
            };
            if (promptSettings is not null) PromptSettingsFile.Write(Path.Combine(tmp, PromptSettingsFile.FileName), promptSettings);
            AtomicFile.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(state, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
    }

    /// <summary>The prompt settings saved in checkpoint <paramref name="directory"/>, or null when it was saved without them.</summary>
    public static PromptSettings? LoadPromptSettings(string directory)
    {
        var path = Path.Combine(directory, PromptSettingsFile.FileName);
        return File.Exists(path) ? PromptSettingsFile.Read(path) : null;
    }

    /// <summary>
    /// Restores parameters, optimizer moments and the step count from <paramref name="directory"/> into
    /// <paramref name="trainer"/> (built on the same base model and mode). Returns the restored step. Hyper-parameters
    /// come from the trainer, as transformers' resume does; a different mode, seed, parameter set or shape is a
    /// <see cref="UserException"/> naming the file.
    /// </summary>
    public static long Load(string directory, Trainer trainer)
    {
        var statePath = Path.Combine(directory, StateFile);
        if (!File.Exists(statePath)) throw new UserException($"{directory}: not a training checkpoint ({StateFile} is missing)");
        long step;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(statePath));
            var root = doc.RootElement;
            int version = root.GetProperty("format_version").GetInt32();
            if (version != FormatVersion) throw new UserException($"{statePath}: format_version {version} is not supported (expected {FormatVersion})");
            string mode = root.GetProperty("mode").GetString() ?? "";
            string expected = trainer.Model.Mode == FineTuningMode.Lora ? "lora" : "full";
            if (mode != expected) throw new UserException($"{statePath}: mode is '{mode}' but this run trains '{expected}'");
            step = root.GetProperty("global_step").GetInt64();
            ulong seed = root.GetProperty("seed").GetUInt64();
            if (seed != trainer.Seed) throw new UserException($"{statePath}: seed is {seed} but this run uses {trainer.Seed}; resuming would not reproduce the run");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new UserException($"{statePath}: malformed trainer state ({e.Message})", e);
        }
        var model = trainer.Model;
        if (model.Mode == FineTuningMode.Lora)
        {
            var adapter = PeftAdapter.Load(directory, model.Config);
            var values = new InMemoryTensorSource();
            foreach (var m in adapter.Modules)
            {
                values.Add(PeftAdapter.KeyA(m.PeftPrefix), [m.Rank, m.InFeatures], m.A);
                values.Add(PeftAdapter.KeyB(m.PeftPrefix), [m.OutFeatures, m.Rank], m.B);
            }
            Import(model, values, Path.Combine(directory, PeftAdapter.WeightsFileName));
        }
        else
        {
            using var weights = SafetensorsReader.Open(Path.Combine(directory, ModelFile));
            Import(model, weights, Path.Combine(directory, ModelFile));
        }
        using (var moments = SafetensorsReader.Open(Path.Combine(directory, OptimizerFile)))
            trainer.Optimizer.ImportState(moments, step, Path.Combine(directory, OptimizerFile));
        return step;
    }

    private static void Import(TrainableDecoder model, ITensorSource source, string what)
    {
        var expected = model.Parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var extra = source.Names.Where(n => !expected.Contains(n)).ToList();
        if (extra.Count > 0) throw new UserException($"{what}: holds {extra.Count} tensor(s) this model does not train, e.g. '{extra[0]}' (another adapter target list or model?)");
        try { model.ImportParameters(source); }
        catch (UserException e) { throw new UserException($"{what}: {e.Message}", e); }
    }
}
