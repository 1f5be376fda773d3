using System.Collections.Concurrent;

namespace SharpTune.Data.MovieLens;

/// <summary>
/// Writes full blocks to their streams on a background thread, so formatting records (one core) overlaps with
/// the kernel copying them out (the other core). A bounded queue caps memory at a few blocks; blocks are recycled.
/// Blocks for one stream are written in the order they were submitted.
/// </summary>
internal sealed class BackgroundBlockWriter
{
    private readonly BlockingCollection<(Stream Stream, byte[] Block, int Length)> _queue = new(boundedCapacity: 8);
    private readonly ConcurrentBag<byte[]> _free = [];
    private readonly Thread _thread;
    private Exception? _error;

    /// <summary>Starts the writer thread.</summary>
    public BackgroundBlockWriter(int blockSize = 1 << 20)
    {
        BlockSize = blockSize;
        _thread = new Thread(Loop) { IsBackground = true, Name = "sharptune block writer" };
        _thread.Start();
    }

    /// <summary>Size of the blocks handed out by <see cref="Rent"/>.</summary>
    public int BlockSize { get; }

    /// <summary>An empty block to fill.</summary>
    public byte[] Rent() => _free.TryTake(out var block) ? block : new byte[BlockSize];

    /// <summary>Queues the first <paramref name="length"/> bytes of <paramref name="block"/> for <paramref name="stream"/>; the block is recycled after.</summary>
    public void Submit(Stream stream, byte[] block, int length)
    {
        if (_error is { } e) throw new IOException("writing the output failed: " + e.Message, e);
        _queue.Add((stream, block, length));
    }

    /// <summary>Waits until every queued block is written; rethrows a write failure.</summary>
    public void Complete()
    {
        _queue.CompleteAdding();
        _thread.Join();
        if (_error is { } e) throw new IOException("writing the output failed: " + e.Message, e);
    }

    private void Loop()
    {
        foreach (var (stream, block, length) in _queue.GetConsumingEnumerable())
        {
            if (_error is null)
            {
                try { stream.Write(block, 0, length); }
                catch (Exception e) { _error = e; }
            }
            _free.Add(block);
        }
    }
}
