namespace SharpTune.Engine.Cpu;

/// <summary>A unit of parallel work split into parts; part i of n is run by one thread.</summary>
internal interface IParallelWork
{
    void Execute(int part, int parts);
}

/// <summary>
/// Persistent worker threads for kernels: the caller runs part 0, workers run the others. Workers spin briefly
/// between jobs (decode issues hundreds of small kernels per token, and waking a blocked thread costs tens of
/// microseconds), then block. One job at a time; not reentrant.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private const int SpinsBeforeBlocking = 20_000;
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private IParallelWork? _work;
    private int _parts;
    private int _generation;
    private int _pending;
    private volatile bool _stopping;
    private Exception? _failure;

    public WorkerPool(int threads)
    {
        Threads = Math.Max(1, threads);
        _threads = new Thread[Threads - 1];
        _wake = new SemaphoreSlim[Threads - 1];
        _sleeping = new int[Threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int index = i;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"sharptune-kernel-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Total threads including the caller.</summary>
    public int Threads { get; }

    /// <summary>Runs parts 0..parts-1 of <paramref name="work"/> and returns when all are done.</summary>
    public void Run(IParallelWork work, int parts)
    {
        parts = Math.Clamp(parts, 1, Threads);
        if (parts == 1)
        {
            work.Execute(0, 1);
            return;
        }
        _work = work;
        _parts = parts;
        _failure = null;
        Volatile.Write(ref _pending, _threads.Length); // every worker checks in, so none can lag into the next job
        Interlocked.Increment(ref _generation);
        for (int i = 0; i < _threads.Length; i++)
            if (Interlocked.CompareExchange(ref _sleeping[i], 0, 1) == 1) _wake[i].Release();
        work.Execute(0, parts);
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
        _work = null;
        if (_failure is not null) throw new AggregateException("a kernel worker failed", _failure);
    }

    private void WorkerLoop(int index)
    {
        int seen = Volatile.Read(ref _generation);
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_stopping)
            {
                if (++spins < SpinsBeforeBlocking) { Thread.SpinWait(20); continue; }
                Interlocked.Exchange(ref _sleeping[index], 1);
                if (Volatile.Read(ref _generation) == seen && !_stopping) _wake[index].Wait();
                Interlocked.Exchange(ref _sleeping[index], 0);
                spins = 0;
            }
            if (_stopping) return;
            seen = Volatile.Read(ref _generation);
            int part = index + 1;
            if (part < _parts)
            {
                try { _work!.Execute(part, _parts); }
                catch (Exception e) { _failure = e; }
            }
            Interlocked.Decrement(ref _pending);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var w in _wake) w.Release();
        foreach (var t in _threads) t.Join();
        foreach (var w in _wake) w.Dispose();
    }
}
