using System.Text.Json;

namespace SharpTune.Models.Safetensors;

/// <summary>
/// A sharded checkpoint (<c>model.safetensors.index.json</c> plus the shard files it names) as one
/// <see cref="ITensorSource"/>. The index is checked against the shards: every listed tensor must be in the shard
/// the index names, and every tensor of a shard must be listed (so no name is ambiguous).
/// </summary>
public sealed class ShardedSafetensorsSource : ITensorSource
{
    private readonly List<SafetensorsReader> _shards;
    private readonly Dictionary<string, SafetensorsReader> _owner;
    private readonly List<string> _names;

    private ShardedSafetensorsSource(string indexPath, List<SafetensorsReader> shards, Dictionary<string, SafetensorsReader> owner, List<string> names)
    {
        IndexPath = indexPath;
        _shards = shards;
        _owner = owner;
        _names = names;
    }

    /// <summary>The index file.</summary>
    public string IndexPath { get; }

    /// <summary>The shard files, in the order they were first named by the index.</summary>
    public IReadOnlyList<string> ShardPaths => _shards.Select(s => s.Path).ToList();

    /// <inheritdoc />
    /// <remarks>Shard by shard, each in file order.</remarks>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Opens the index and every shard it names; errors name the index or the shard and the tensor.</summary>
    public static ShardedSafetensorsSource Open(string indexPath)
    {
        if (!File.Exists(indexPath)) throw new UserException($"{indexPath}: file not found (expected model.safetensors.index.json)");
        var weightMap = ReadWeightMap(indexPath);
        var dir = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var shards = new List<SafetensorsReader>();
        try
        {
            var byFile = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
            foreach (var file in weightMap.Values.Distinct(StringComparer.Ordinal))
            {
                var shardPath = Path.Combine(dir, file);
                if (!File.Exists(shardPath)) throw new UserException($"{indexPath}: shard '{file}' named by weight_map does not exist");
                var reader = SafetensorsReader.Open(shardPath);
                shards.Add(reader);
                byFile[file] = reader;
            }
            var owner = new Dictionary<string, SafetensorsReader>(StringComparer.Ordinal);
            foreach (var (name, file) in weightMap)
            {
                var shard = byFile[file];
                if (!shard.TryGetInfo(name, out _)) throw new UserException($"{indexPath}: tensor '{name}' is mapped to '{file}', which does not contain it");
                owner[name] = shard;
            }
            var names = new List<string>();
            foreach (var shard in shards)
                foreach (var name in shard.Names)
                {
                    if (!owner.TryGetValue(name, out var o))
                        throw new UserException($"{shard.Path}: tensor '{name}' is not listed in {Path.GetFileName(indexPath)}'s weight_map");
                    if (o == shard) names.Add(name);
                    else throw new UserException($"{shard.Path}: tensor '{name}' is also in {o.Path}; the index maps it to the latter");
                }
            return new ShardedSafetensorsSource(indexPath, shards, owner, names);
        }
        catch
        {
            foreach (var s in shards) s.Dispose();
            throw;
        }
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(indexPath), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new UserException($"{indexPath}: not valid JSON (line {e.LineNumber + 1}): {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new UserException($"{indexPath}: expected an object with a 'weight_map' object mapping tensor names to shard files");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) throw new UserException($"{indexPath}: weight_map['{p.Name}'] must be a file name string");
                var file = p.Value.GetString()!;
                // Shards live beside the index; a path would let an index reach arbitrary files.
                if (file.Length == 0 || file != Path.GetFileName(file) || file is "." or "..")
                    throw new UserException($"{indexPath}: weight_map['{p.Name}'] = '{file}' must be a plain file name in the same folder");
                if (!result.TryAdd(p.Name, file)) throw new UserException($"{indexPath}: weight_map names '{p.Name}' twice");
            }
            if (result.Count == 0) throw new UserException($"{indexPath}: weight_map is empty");
            return result;
        }
    }

    /// <inheritdoc />
    public bool TryGetInfo(string name, out TensorInfo info)
    {
        if (_owner.TryGetValue(name, out var shard)) return shard.TryGetInfo(name, out info);
        info = null!;
        return false;
    }

    /// <inheritdoc />
    public void Release(string name)
    {
        if (_owner.TryGetValue(name, out var shard)) shard.Release(name);
    }

    /// <inheritdoc />
    public ReadOnlySpan<byte> GetBytes(string name) =>
        _owner.TryGetValue(name, out var shard) ? shard.GetBytes(name) : throw new KeyNotFoundException($"{IndexPath}: no tensor named '{name}'");

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }
}
