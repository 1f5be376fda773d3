using System.IO.MemoryMappedFiles;

namespace SharpTune.Models.Safetensors;

/// <summary>
/// A memory-mapped safetensors file as an <see cref="ITensorSource"/>. The header is read and validated in full
/// (see <c>SafetensorsHeader</c>) before the file is mapped; tensor bytes are then spans straight into the
/// mapping, so opening costs no copy and the OS pages weights in on first use. One tensor is limited to 2 GiB
/// (a span's length is an <see cref="int"/>); a larger one is refused when the file is opened.
/// The mapping assumes the file is not truncated while open (SharpTune's writers replace files by rename, which
/// leaves an open mapping intact); truncation by another program would fault on access, as with any mmap.
/// </summary>
public sealed unsafe class SafetensorsReader : ITensorSource
{
    private readonly Dictionary<string, SafetensorsEntry> _entries;
    private readonly List<string> _names;
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _data;
    private bool _disposed;

    private SafetensorsReader(string path, List<SafetensorsEntry> entries, Dictionary<string, string> metadata, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* data)
    {
        Path = path;
        _entries = entries.ToDictionary(e => e.Info.Name, StringComparer.Ordinal);
        _names = entries.Select(e => e.Info.Name).ToList();
        Metadata = metadata;
        _map = map;
        _view = view;
        _data = data;
    }

    /// <summary>The file this reader maps.</summary>
    public string Path { get; }

    /// <summary>The header's <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <inheritdoc />
    /// <remarks>In file order (ascending data offset).</remarks>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Opens and validates a safetensors file; every problem is a <see cref="UserException"/> naming the file.</summary>
    public static SafetensorsReader Open(string path)
    {
        SharpTune.IO.InputPaths.RequireFile(path, $"{path}: file not found (expected a .safetensors file)");
        long fileLength;
        byte[] header;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1))
        {
            fileLength = fs.Length;
            if (fileLength < 8) throw new UserException($"{path}: {fileLength} bytes is too short for a safetensors file (8-byte header length missing)");
            Span<byte> len = stackalloc byte[8];
            fs.ReadExactly(len);
            ulong n = BitConverter.ToUInt64(len);
            if (n > SafetensorsHeader.MaxHeaderLength)
                throw new UserException($"{path}: safetensors header length {n} exceeds the {SafetensorsHeader.MaxHeaderLength}-byte limit (not a safetensors file?)");
            if ((long)n > fileLength - 8)
                throw new UserException($"{path}: safetensors header length {n} runs past the end of the {fileLength}-byte file (truncated?)");
            header = new byte[n];
            fs.ReadExactly(header);
        }
        long dataLength = fileLength - 8 - header.Length;
        var (entries, metadata) = SafetensorsHeader.Parse(header, dataLength, path);
        if (dataLength == 0) return new SafetensorsReader(path, entries, metadata, null, null, null);

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            if (view.Capacity < fileLength)
                throw new UserException($"{path}: the file shrank while it was being opened");
            byte* basePtr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
            byte* data = basePtr + view.PointerOffset + 8 + header.Length;
            return new SafetensorsReader(path, entries, metadata, map, view, data);
        }
        catch (IOException e)
        {
            view?.Dispose();
            map?.Dispose();
            throw new UserException($"{path}: cannot map the file: {e.Message}", e);
        }
        catch
        {
            view?.Dispose();
            map?.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public bool TryGetInfo(string name, out TensorInfo info)
    {
        if (_entries.TryGetValue(name, out var e)) { info = e.Info; return true; }
        info = null!;
        return false;
    }

    /// <inheritdoc />
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_entries.TryGetValue(name, out var e)) throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");
        int length = checked((int)(e.End - e.Begin));
        return length == 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(_data + e.Begin, length);
    }

    /// <inheritdoc />
    public void Release(string name)
    {
        if (_disposed || _view is null || !OperatingSystem.IsLinux() || !_entries.TryGetValue(name, out var e)) return;
        // Only whole pages inside the tensor: its neighbours' bytes stay mapped.
        const long Page = 4096;
        long begin = (long)(_data + e.Begin), end = (long)(_data + e.End);
        long first = (begin + Page - 1) / Page * Page, last = end / Page * Page;
        if (last > first) _ = Madvise((nint)first, (nuint)(last - first), MadviseDontNeed);
    }

    private const int MadviseDontNeed = 4;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
