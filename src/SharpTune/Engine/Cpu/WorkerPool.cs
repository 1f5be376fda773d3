namespace SharpTune.Engine.Cpu;

/// <summary>A unit of parallel work split into parts; part i of n is run by one thread.</summary>
internal interface IParallelWork
{
    void Execute(int part, int parts);
}

/// <summary>A loop body over an index range, as a struct so that a parallel loop allocates nothing.</summary>
internal interface IRangeBody
{
    void Run(long begin, long end);
}

/// <summary>
/// Persistent worker threads for kernels: the caller runs part 0, workers run the others. Hand-offs use
/// <see cref="ManualResetEventSlim"/>, which spins briefly before blocking: decode issues hundreds of small kernels
/// per token, so a spinning worker picks the next one up in well under a microsecond, while on an oversubscribed
/// machine the threads block instead of burning the core the other thread needs. One job at a time; not reentrant.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private const int SpinCount = 2000;
    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _go;
    private readonly ManualResetEventSlim _done = new(false, SpinCount);
    private IParallelWork? _work;
    private int _parts;
    private int _pending;
    private volatile bool _stopping;
    private Exception? _failure;

    public WorkerPool(int threads)
    {
        Threads = Math.Max(1, threads);
        _threads = new Thread[Threads - 1];
        _go = new ManualResetEventSlim[Threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _go[i] = new ManualResetEventSlim(false, SpinCount);
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
        _done.Reset();
        Volatile.Write(ref _pending, parts - 1);
        for (int i = 0; i < parts - 1; i++) _go[i].Set();
        Exception? own = null;
        try { work.Execute(0, parts); }
        catch (Exception e) { own = e; }
        _done.Wait();
        _work = null;
        if (own is not null) throw own;
        if (_failure is not null) throw new AggregateException("a kernel worker failed", _failure);
    }

    private readonly Dictionary<Type, object> _rangeWork = new();

    /// <summary>
    /// Runs <paramref name="body"/> over <c>0 .. count</c> split into contiguous ranges, one per thread, using no more
    /// threads than leave each at least <paramref name="grain"/> indices.
    /// </summary>
    public void For<T>(in T body, long count, long grain) where T : struct, IRangeBody
    {
        if (count <= 0) return;
        int parts = (int)Math.Clamp(count / Math.Max(1, grain), 1, Threads);
        if (parts == 1)
        {
            body.Run(0, count);
            return;
        }
        if (!_rangeWork.TryGetValue(typeof(T), out var cached)) _rangeWork[typeof(T)] = cached = new RangeWork<T>();
        var work = (RangeWork<T>)cached;
        work.Body = body;
        work.Count = count;
        Run(work, parts);
        work.Body = default;
    }

    private sealed class RangeWork<T> : IParallelWork where T : struct, IRangeBody
    {
        public T Body;
        public long Count;

        public void Execute(int part, int parts) => Body.Run(Count * part / parts, Count * (part + 1) / parts);
    }

    private void WorkerLoop(int index)
    {
        var go = _go[index];
        while (true)
        {
            go.Wait();
            go.Reset();
            if (_stopping) return;
            try { _work!.Execute(index + 1, _parts); }
            catch (Exception e) { _failure = e; }
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (var g in _go) g.Set();
        foreach (var t in _threads) t.Join();
        foreach (var g in _go) g.Dispose();
        _done.Dispose();
    }
}
