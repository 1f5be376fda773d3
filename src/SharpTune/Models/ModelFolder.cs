using SharpTune.Models.Safetensors;

namespace SharpTune.Models;

/// <summary>
/// A Hugging Face model folder opened for use: config.json parsed, weights (single file or shards) mapped, and
/// the weights validated against the config's <see cref="CheckpointLayout"/>. The engine loads parameters through
/// <see cref="Layout"/> (roles and layers) from <see cref="Weights"/>.
/// </summary>
public sealed class ModelFolder : IDisposable
{
    private ModelFolder(string path, ModelConfig config, CheckpointLayout layout, ITensorSource weights, IReadOnlyList<string> ignored)
    {
        Path = path;
        Config = config;
        Layout = layout;
        Weights = weights;
        IgnoredTensors = ignored;
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>The parsed config.json.</summary>
    public ModelConfig Config { get; }

    /// <summary>The parameters the config implies, with names, shapes and roles.</summary>
    public CheckpointLayout Layout { get; }

    /// <summary>The weights (memory-mapped).</summary>
    public ITensorSource Weights { get; }

    /// <summary>Tensors present but ignored, as transformers ignores them (a tied <c>lm_head.weight</c>, rotary buffers).</summary>
    public IReadOnlyList<string> IgnoredTensors { get; }

    /// <summary>Opens and validates <paramref name="path"/>; every problem is a <see cref="UserException"/> naming the file.</summary>
    public static ModelFolder Open(string path)
    {
        if (!Directory.Exists(path)) throw new UserException($"{path}: model folder not found");
        var config = ModelConfigJson.Load(System.IO.Path.Combine(path, "config.json"));
        var layout = CheckpointLayout.For(config);
        var weights = SafetensorsCheckpoint.Open(path);
        try
        {
            var name = weights is SafetensorsReader r ? r.Path : weights is ShardedSafetensorsSource s ? s.IndexPath : path;
            var ignored = layout.Validate(weights, name);
            return new ModelFolder(path, config, layout, weights, ignored);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Weights.Dispose();
}
