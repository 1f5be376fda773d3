using System.Security.Cryptography;
using System.Text;

namespace SharpTune.Data.Sft;

/// <summary>The records a configuration's dataset keys resolve to.</summary>
/// <param name="Train">Training records, in order (datasets concatenated; after a val_size split, in the split's permuted order).</param>
/// <param name="Eval">Evaluation records (eval_dataset, or the val_size split), possibly empty.</param>
/// <param name="TrainSources">The training datasets as resolved.</param>
/// <param name="EvalSources">The evaluation datasets as resolved.</param>
/// <param name="Fingerprint">SHA-256 (hex) over every data file's bytes, the dataset descriptions and the selection settings: a cache key part.</param>
public sealed record ResolvedDatasets(IReadOnlyList<SftRecord> Train, IReadOnlyList<SftRecord> Eval,
    IReadOnlyList<DatasetInfoEntry> TrainSources, IReadOnlyList<DatasetInfoEntry> EvalSources, string Fingerprint);

/// <summary>How datasets are selected (LLaMA-Factory's <c>dataset</c>, <c>eval_dataset</c>, <c>dataset_dir</c>, <c>val_size</c>, <c>max_samples</c>).</summary>
/// <param name="Dataset">Training dataset names or files.</param>
/// <param name="EvalDataset">Evaluation dataset names or files.</param>
/// <param name="DatasetDir">Folder of dataset_info.json; names and relative files resolve against it.</param>
/// <param name="ValSize">0, a fraction in (0, 1) or a whole count of training records to hold out for evaluation.</param>
/// <param name="MaxSamples">Keep the first N records of each dataset, or null.</param>
/// <param name="Seed">Seed of the val_size split and of num_samples draws.</param>
public sealed record DatasetSelection(IReadOnlyList<string> Dataset, IReadOnlyList<string> EvalDataset, string DatasetDir, double ValSize, int? MaxSamples, long Seed);

/// <summary>
/// Turns dataset names into <see cref="SftRecord"/>s for training and evaluation, as LLaMA-Factory's loader does:
/// each name is an entry of <c>dataset_dir/dataset_info.json</c> or a data file (absolute, or relative to
/// dataset_dir); <c>num_samples</c> draws that many records (seeded); <c>max_samples</c> keeps each dataset's first N;
/// the datasets are concatenated; <c>val_size</c> holds out a seeded random part of the training records.
/// </summary>
/// <remarks>
/// The val_size split: a fraction f holds out ⌈f·N⌉ records, a count holds out that many; the N indices are permuted
/// by Fisher–Yates with <c>new System.Random(seed)</c> (from the last index down, swapping with <c>Next(i + 1)</c>), the
/// first held-out-many indices are the evaluation records and the rest, in permuted order, the training records
/// (the layout of Hugging Face datasets' <c>train_test_split</c>, with .NET's generator).
/// </remarks>
public static class DatasetResolver
{
    /// <summary>Resolves and reads the datasets of <paramref name="selection"/>.</summary>
    public static ResolvedDatasets Resolve(DatasetSelection selection) => Walk(selection, readRecords: true);

    /// <summary>
    /// <see cref="ResolvedDatasets.Fingerprint"/> of <paramref name="selection"/> without reading a record (the files
    /// are hashed as streams): what a cache lookup needs, so a training run whose splits are cached never holds the
    /// records as objects. Resolution errors (an unknown name, a missing file) are the same as <see cref="Resolve"/>'s.
    /// </summary>
    public static string Fingerprint(DatasetSelection selection) => Walk(selection, readRecords: false).Fingerprint;

    private static ResolvedDatasets Walk(DatasetSelection selection, bool readRecords)
    {
        DatasetInfo? info = null;
        var infoPath = Path.Combine(selection.DatasetDir, "dataset_info.json");
        if (File.Exists(infoPath)) info = DatasetInfo.Load(infoPath);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Mix(string s) => hash.AppendData(Encoding.UTF8.GetBytes(s + "\n"));
        Mix($"val_size={selection.ValSize};max_samples={selection.MaxSamples};seed={selection.Seed}");

        List<SftRecord> Read(IReadOnlyList<string> names, List<DatasetInfoEntry> sources, string role)
        {
            var all = new List<SftRecord>();
            foreach (var name in names)
            {
                var entry = Find(name, info, infoPath, selection.DatasetDir);
                sources.Add(entry);
                Mix($"{role}:{name}:{System.Text.Json.JsonSerializer.Serialize(entry.Description)}:{entry.NumSamples}");
                var records = new List<SftRecord>();
                foreach (var file in entry.Files)
                {
                    SharpTune.IO.InputPaths.RequireFile(file, $"{file}: data file of dataset '{name}' not found");
                    using (var stream = File.OpenRead(file)) hash.AppendData(SHA256.HashData(stream));
                    if (readRecords) records.AddRange(SftDatasetReader.Read(file, entry.Description));
                }
                if (!readRecords) continue;
                if (records.Count == 0) throw new UserException($"{entry.Files[0]}: dataset '{name}' has no records");
                if (entry.NumSamples is int n) records = Draw(records, n, selection.Seed);
                if (selection.MaxSamples is int max && records.Count > max) records = records.GetRange(0, max);
                all.AddRange(records);
            }
            return all;
        }

        var trainSources = new List<DatasetInfoEntry>();
        var evalSources = new List<DatasetInfoEntry>();
        var train = Read(selection.Dataset, trainSources, "train");
        var eval = Read(selection.EvalDataset, evalSources, "eval");
        if (readRecords && selection.ValSize > 0)
        {
            int n = train.Count;
            int held = selection.ValSize < 1 ? (int)Math.Ceiling(selection.ValSize * n) : (int)selection.ValSize;
            if (held >= n) throw new UserException($"val_size {selection.ValSize} holds out {held} of {n} training records; at least one must remain for training");
            var order = Permutation(n, selection.Seed);
            eval = order.Take(held).Select(i => train[i]).ToList();
            train = order.Skip(held).Select(i => train[i]).ToList();
        }
        return new ResolvedDatasets(train, eval, trainSources, evalSources, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>The seeded permutation of 0..n-1 used by the val_size split (see the remarks of <see cref="DatasetResolver"/>).</summary>
    public static int[] Permutation(int n, long seed)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var rng = new Random(unchecked((int)seed));
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    // num_samples: that many records in seeded random order; more than the dataset holds repeats records (as LLaMA-Factory).
    private static List<SftRecord> Draw(List<SftRecord> records, int n, long seed)
    {
        var order = Permutation(records.Count, seed);
        var picked = order.Take(Math.Min(n, records.Count)).Select(i => records[i]).ToList();
        var rng = new Random(unchecked((int)seed) ^ 0x5eed);
        while (picked.Count < n) picked.Add(records[rng.Next(records.Count)]);
        return picked;
    }

    private static DatasetInfoEntry Find(string name, DatasetInfo? info, string infoPath, string dir)
    {
        if (info is not null && info.Contains(name)) return info.Get(name);
        var file = Path.IsPathRooted(name) ? name : Path.Combine(dir, name);
        if (File.Exists(file)) return new DatasetInfoEntry(name, [file], null, null);
        if (Directory.Exists(file)) throw new UserException($"dataset '{name}': {file}: is a directory; expected a data file (or a name defined in {infoPath})");
        if (info is null)
            throw new UserException($"dataset '{name}': {infoPath} not found and '{file}' is not a data file (set dataset_dir to the folder holding dataset_info.json)");
        throw new UserException($"dataset '{name}': not defined in {infoPath} (known: {string.Join(", ", info.Names)}) and '{file}' is not a data file");
    }
}
