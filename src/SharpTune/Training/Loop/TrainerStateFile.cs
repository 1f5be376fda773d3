using System.Text.Json;
using System.Text.Json.Nodes;
using SharpTune.IO;

namespace SharpTune.Training.Loop;

/// <summary>
/// transformers' <c>TrainerState</c> as <c>trainer_state.json</c> (<c>json.dumps(asdict(state), indent=2,
/// sort_keys=True)</c>): <c>best_global_step</c>, <c>best_metric</c>, <c>best_model_checkpoint</c>, <c>epoch</c>,
/// <c>eval_steps</c>, <c>global_step</c>, <c>is_hyper_param_search</c>, <c>is_local_process_zero</c>,
/// <c>is_world_process_zero</c>, <c>log_history</c>, <c>logging_steps</c>, <c>max_steps</c>,
/// <c>num_input_tokens_seen</c>, <c>num_train_epochs</c>, <c>save_steps</c>, <c>stateful_callbacks</c>,
/// <c>total_flos</c>, <c>train_batch_size</c>, <c>trial_name</c>, <c>trial_params</c>. Tools that read a transformers
/// run (plots, <c>TrainerState.load_from_json</c>) read it unchanged.
/// </summary>
public sealed class TrainerStateFile
{
    /// <summary>The file name.</summary>
    public const string FileName = "trainer_state.json";

    /// <summary>Fractional epoch.</summary>
    public double Epoch { get; set; }

    /// <summary>Updates done.</summary>
    public long GlobalStep { get; set; }

    /// <summary>Updates of the run.</summary>
    public long MaxSteps { get; set; }

    /// <summary>Epochs the loop enters.</summary>
    public int NumTrainEpochs { get; set; }

    /// <summary>Logging interval.</summary>
    public long LoggingSteps { get; set; }

    /// <summary>Evaluation interval.</summary>
    public long EvalSteps { get; set; }

    /// <summary>Checkpoint interval.</summary>
    public long SaveSteps { get; set; }

    /// <summary>Micro-batch size.</summary>
    public int TrainBatchSize { get; set; }

    /// <summary>Unpadded input tokens seen.</summary>
    public long NumInputTokensSeen { get; set; }

    /// <summary>Floating-point operations so far (as the engine counts them).</summary>
    public double TotalFlos { get; set; }

    /// <summary>Every log entry, oldest first.</summary>
    public List<JsonObject> LogHistory { get; } = [];

    /// <summary>The best value of the metric for the best model, or null.</summary>
    public double? BestMetric { get; set; }

    /// <summary>The update at which <see cref="BestMetric"/> was reached, or null.</summary>
    public long? BestGlobalStep { get; set; }

    /// <summary>The checkpoint folder of the best model, or null.</summary>
    public string? BestModelCheckpoint { get; set; }

    /// <summary>The JSON text, keys sorted, two-space indentation and a final newline.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["best_global_step"] = BestGlobalStep,
            ["best_metric"] = BestMetric,
            ["best_model_checkpoint"] = BestModelCheckpoint,
            ["epoch"] = Epoch,
            ["eval_steps"] = EvalSteps,
            ["global_step"] = GlobalStep,
            ["is_hyper_param_search"] = false,
            ["is_local_process_zero"] = true,
            ["is_world_process_zero"] = true,
            ["log_history"] = new JsonArray(LogHistory.Select(e => (JsonNode)Sorted(e)).ToArray()),
            ["logging_steps"] = LoggingSteps,
            ["max_steps"] = MaxSteps,
            ["num_input_tokens_seen"] = NumInputTokensSeen,
            ["num_train_epochs"] = NumTrainEpochs,
            ["save_steps"] = SaveSteps,
            ["stateful_callbacks"] = new JsonObject
            {
                ["TrainerControl"] = new JsonObject
                {
                    ["args"] = new JsonObject
                    {
                        ["should_epoch_stop"] = false, ["should_evaluate"] = false, ["should_log"] = false, ["should_save"] = true, ["should_training_stop"] = false,
                    },
                    ["attributes"] = new JsonObject(),
                },
            },
            ["total_flos"] = TotalFlos,
            ["train_batch_size"] = TrainBatchSize,
            ["trial_name"] = null,
            ["trial_params"] = null,
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }) + "\n";
    }

    private static JsonObject Sorted(JsonObject entry) =>
        new(entry.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));

    /// <summary>Writes the file atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Reads a file written by <see cref="Save"/> (or by transformers); problems are <see cref="UserException"/>s naming the file.</summary>
    public static TrainerStateFile Load(string path)
    {
        try
        {
            var root = JsonNode.Parse(File.ReadAllBytes(path))?.AsObject() ?? throw new JsonException("not an object");
            var s = new TrainerStateFile
            {
                Epoch = root["epoch"]?.GetValue<double>() ?? 0,
                GlobalStep = root["global_step"]?.GetValue<long>() ?? throw new JsonException("global_step is missing"),
                MaxSteps = root["max_steps"]?.GetValue<long>() ?? 0,
                NumTrainEpochs = root["num_train_epochs"]?.GetValue<int>() ?? 0,
                LoggingSteps = root["logging_steps"]?.GetValue<long>() ?? 0,
                EvalSteps = root["eval_steps"]?.GetValue<long>() ?? 0,
                SaveSteps = root["save_steps"]?.GetValue<long>() ?? 0,
                TrainBatchSize = root["train_batch_size"]?.GetValue<int>() ?? 0,
                NumInputTokensSeen = root["num_input_tokens_seen"]?.GetValue<long>() ?? 0,
                TotalFlos = root["total_flos"]?.GetValue<double>() ?? 0,
                BestMetric = root["best_metric"]?.GetValue<double>(),
                BestGlobalStep = root["best_global_step"]?.GetValue<long>(),
                BestModelCheckpoint = root["best_model_checkpoint"]?.GetValue<string>(),
            };
            if (root["log_history"] is JsonArray history)
                foreach (var e in history) s.LogHistory.Add(e?.DeepClone().AsObject() ?? throw new JsonException("a log_history entry is null"));
            return s;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IOException)
        {
            throw new UserException($"{path}: malformed trainer state ({e.Message})", e);
        }
    }
}
