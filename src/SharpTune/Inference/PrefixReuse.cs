using SharpTune.Models;

namespace SharpTune.Inference;

/// <summary>
/// A prefix cache over the slots of a <see cref="KvCache"/>, keyed by token ids: it remembers which prompt tokens each
/// slot's cache rows hold, and starts a new prompt in a slot from the longest prefix that any slot already holds,
/// copying those rows (<see cref="KvCache.CopyPrefix"/>, every layer) so that only the rest of the prompt is computed.
/// Batch-inference prompts share long prefixes (system prompt, template, instruction: about a quarter of a MovieLens
/// prompt). A key or value at position p depends only on tokens 0..p, so the copied rows are what the prompt's own
/// prefill would compute. At least the prompt's last token is always computed: its logits are needed.
/// </summary>
internal sealed class PrefixReuse
{
    private readonly KvCache _cache;
    private readonly bool _enabled;
    private readonly int[]?[] _held;   // per slot: the prompt whose first _valid[slot] tokens the slot's rows hold
    private readonly int[] _valid;

    /// <summary>Tracks <paramref name="cache"/>'s slots; with <paramref name="enabled"/> false every prompt starts from nothing.</summary>
    public PrefixReuse(KvCache cache, bool enabled)
    {
        _cache = cache;
        _enabled = enabled;
        _held = new int[]?[cache.MaxBatch];
        _valid = new int[cache.MaxBatch];
    }

    /// <summary>Prompt tokens whose keys and values were copied instead of computed, so far.</summary>
    public long ReusedTokens { get; private set; }

    /// <summary>
    /// Puts <paramref name="prompt"/> into <paramref name="slot"/> (forgetting what it held) and returns how many of its
    /// leading tokens are already in place: the caller runs tokens <c>reused..prompt.Length-1</c> at those positions
    /// and calls <see cref="Prefilled"/> after that forward.
    /// </summary>
    public int Start(int slot, int[] prompt)
    {
        int best = -1, reused = 0;
        if (_enabled)
            for (int s = 0; s < _held.Length; s++)
            {
                if (_held[s] is not { } held) continue;
                int n = Math.Min(held.AsSpan(0, _valid[s]).CommonPrefixLength(prompt), prompt.Length - 1);
                // Ties go to the slot itself (nothing to copy).
                if (n > reused || (n == reused && n > 0 && s == slot)) { best = s; reused = n; }
            }
        if (best >= 0) _cache.CopyPrefix(best, slot, reused);
        else _cache.SetLength(slot, 0);
        _held[slot] = prompt;
        _valid[slot] = reused;
        ReusedTokens += reused;
        return reused;
    }

    /// <summary>Records that the forward which computed the rest of <paramref name="slot"/>'s prompt has run.</summary>
    public void Prefilled(int slot) => _valid[slot] = _held[slot]?.Length ?? 0;
}
