namespace SharpTune.Models.Safetensors;

/// <summary>
/// Finds and opens the weights of a Hugging Face model folder: <c>model.safetensors</c>, or a sharded
/// checkpoint through <c>model.safetensors.index.json</c>. PyTorch pickle files (<c>pytorch_model.bin</c>,
/// <c>.pt</c>, <c>.pth</c>, <c>.ckpt</c>) are never loaded: unpickling runs arbitrary code, so they are
/// refused with a message that says how to convert them.
/// </summary>
public static class SafetensorsCheckpoint
{
    /// <summary>Name of a single-file checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>Name of a sharded checkpoint's index.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private static readonly string[] PickleExtensions = [".bin", ".pt", ".pth", ".ckpt", ".pkl"];

    /// <summary>
    /// Opens <paramref name="path"/>: a model folder, a <c>.safetensors</c> file or a <c>.safetensors.index.json</c>.
    /// </summary>
    public static ITensorSource Open(string path)
    {
        if (File.Exists(path))
        {
            if (IsPickle(path)) throw PickleError(path);
            if (path.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)) return ShardedSafetensorsSource.Open(path);
            return SafetensorsReader.Open(path);
        }
        if (!Directory.Exists(path)) throw new UserException($"{path}: no such model folder or checkpoint file");
        var single = Path.Combine(path, SingleFileName);
        if (File.Exists(single)) return SafetensorsReader.Open(single);
        var index = Path.Combine(path, IndexFileName);
        if (File.Exists(index)) return ShardedSafetensorsSource.Open(index);
        var pickle = Directory.EnumerateFiles(path).Where(IsPickle).Order(StringComparer.Ordinal).FirstOrDefault();
        if (pickle is not null) throw PickleError(pickle);
        throw new UserException($"{path}: no {SingleFileName} or {IndexFileName} in this folder");
    }

    private static bool IsPickle(string file) =>
        PickleExtensions.Any(e => file.EndsWith(e, StringComparison.OrdinalIgnoreCase))
        || file.EndsWith(".bin.index.json", StringComparison.OrdinalIgnoreCase);

    private static UserException PickleError(string file) => new(
        $"{file}: PyTorch pickle checkpoints are not loaded (unpickling can run arbitrary code); convert the model to safetensors, "
        + "e.g. in Python: AutoModelForCausalLM.from_pretrained(dir).save_pretrained(out, safe_serialization=True)");
}
