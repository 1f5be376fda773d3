using SharpTune.Engine;

namespace SharpTune.Models;

/// <summary>
/// The preallocated key/value cache: per layer, K and V of <c>[maxBatch · maxLength, kvHeads·headDim]</c> in one
/// backend arena; sequence b owns rows <c>b·maxLength .. (b+1)·maxLength</c> and position p of it lives in row
/// <c>b·maxLength + p</c>. Allocated once; <see cref="Reset"/> only forgets the lengths.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Arena _arena;
    private readonly IComputeBackend _backend;
    private readonly int[] _lengths;

    /// <summary>Allocates the cache for <paramref name="maxBatch"/> sequences of up to <paramref name="maxLength"/> tokens.</summary>
    public KvCache(ModelConfig config, IComputeBackend backend, int maxBatch, int maxLength)
    {
        if (maxBatch <= 0 || maxLength <= 0) throw new ArgumentOutOfRangeException(nameof(maxBatch), "batch and length must be positive");
        if ((long)maxBatch * maxLength > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(maxLength), "cache too large");
        MaxBatch = maxBatch;
        MaxLength = maxLength;
        _backend = backend;
        _arena = backend.CreateArena("kv-cache");
        Keys = new Tensor[config.NumLayers];
        Values = new Tensor[config.NumLayers];
        for (int l = 0; l < config.NumLayers; l++)
        {
            Keys[l] = _arena.Allocate(ElementType.F32, maxBatch * maxLength, config.KvDim);   // [batch·maxLength, kvHeads·headDim]
            Values[l] = _arena.Allocate(ElementType.F32, maxBatch * maxLength, config.KvDim); // [batch·maxLength, kvHeads·headDim]
        }
        _lengths = new int[maxBatch];
    }

    /// <summary>Sequences the cache holds.</summary>
    public int MaxBatch { get; }

    /// <summary>Tokens per sequence.</summary>
    public int MaxLength { get; }

    /// <summary>Bytes allocated.</summary>
    public long Bytes => _arena.Bytes;

    internal Tensor[] Keys { get; }

    internal Tensor[] Values { get; }

    /// <summary>Tokens cached so far for sequence <paramref name="sequence"/>.</summary>
    public int Length(int sequence) => _lengths[sequence];

    internal void SetLength(int sequence, int length) => _lengths[sequence] = length;

    /// <summary>
    /// Copies the first <paramref name="count"/> rows (positions 0..count-1) of sequence <paramref name="from"/>'s keys
    /// and values, every layer, into sequence <paramref name="to"/>, whose length becomes <paramref name="count"/>:
    /// a prompt that starts with tokens another sequence already holds need not compute them again.
    /// </summary>
    public void CopyPrefix(int from, int to, int count)
    {
        if ((uint)from >= (uint)MaxBatch || (uint)to >= (uint)MaxBatch) throw new ArgumentOutOfRangeException(nameof(from));
        if (count < 0 || count > _lengths[from]) throw new ArgumentOutOfRangeException(nameof(count), $"sequence {from} holds {_lengths[from]} rows, not {count}");
        if (from != to && count > 0)
            for (int l = 0; l < Keys.Length; l++)
            {
                _backend.Copy(Keys[l].SliceRows(from * MaxLength, count), Keys[l].SliceRows(to * MaxLength, count));       // [count, kvDim]
                _backend.Copy(Values[l].SliceRows(from * MaxLength, count), Values[l].SliceRows(to * MaxLength, count));   // [count, kvDim]
            }
        _lengths[to] = count;
    }

    /// <summary>Forgets every sequence (the memory is kept).</summary>
    public void Reset() => Array.Clear(_lengths);

    /// <inheritdoc />
    public void Dispose() => _arena.Dispose();
}
