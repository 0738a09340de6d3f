using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using WalverBot.Discord.Models;

namespace WalverBot.Discord.Gateway;

/// <summary>
/// One guild's members in about 50 bytes each, for guilds of a million: a dense array of 24-byte slots (user id, shared
/// role list, where the username is, discriminator and bot flag), every username as UTF-8 bytes in one byte arena (no
/// string object per member), and two open-addressing indexes of slot numbers (by id, by lower-cased username) with
/// linear probing. Not thread-safe: the directory holds the guild's lock around every call.
/// </summary>
internal sealed class MemberTable
{
    // Tag bits: the discriminator (0-9999 fits in 14 bits), the bot flag, and "not in the name index".
    private const ushort DiscriminatorMask = 0x3FFF;
    private const ushort BotFlag = 0x4000;
    private const ushort UnindexedFlag = 0x8000;

    // A name's length is stored before its bytes: one byte below 255, else 255 and four bytes.
    private const byte LongName = 255;

    private Slot[] _slots;
    private int _slotsUsed;
    private readonly Stack<int> _freeSlots = new();
    private int[] _byId;
    private int[] _byName;
    private byte[] _names;
    private int _namesUsed;
    private int _namesDead;

    /// <param name="capacity">Members expected (the guild's <c>member_count</c>), so a fill does not grow the arrays.</param>
    public MemberTable(int capacity)
    {
        capacity = Math.Max(capacity, 4);
        _slots = new Slot[capacity];
        _byId = new int[IndexSizeFor(capacity)];
        _byName = new int[_byId.Length];
        // Usernames are 2-32 characters, mostly ASCII: 16 bytes with the length is a fair first guess; trimmed later.
        _names = new byte[capacity * 16];
    }

    public int Count { get; private set; }

    /// <summary>Once trimmed (the fill is complete), arrays grow by an eighth instead of a half: events add few members.</summary>
    private bool Trimmed { get; set; }

    /// <summary>Adds the member, or replaces what is held for its id (name, roles, discriminator, bot flag).</summary>
    public void Upsert(ulong userId, string username, ushort discriminator, bool bot, ulong[] roles)
    {
        var tag = (ushort)((discriminator & DiscriminatorMask) | (bot ? BotFlag : 0));
        var rented = Encode(username, out var bytes, out var valid);
        try
        {
            if (!valid)
            {
                // Not valid UTF-16 (a lone surrogate): no typed name can equal it, so it is found by id only.
                tag |= UnindexedFlag;
            }

            var slot = FindById(userId);
            if (slot >= 0)
            {
                ref var held = ref _slots[slot];
                var sameName = held.Tag >> 15 == tag >> 15 && NameBytes(held).SequenceEqual(bytes);
                if (!sameName)
                {
                    if ((held.Tag & UnindexedFlag) == 0)
                    {
                        RemoveFromIndex(_byName, slot, NameHome(NameBytes(held)));
                    }

                    _namesDead += NameSize(held.NameOffset);
                    held.NameOffset = AppendName(bytes);
                    if (valid)
                    {
                        AddToIndex(_byName, slot, NameHome(bytes));
                    }
                }

                held.Roles = roles;
                held.Tag = tag;
                CompactNamesIfMostlyDead();
                return;
            }

            EnsureIndexRoom();
            slot = TakeSlot();
            _slots[slot] = new Slot { UserId = userId, Roles = roles, NameOffset = AppendName(bytes), Tag = tag };
            Count++;
            AddToIndex(_byId, slot, IdHome(userId, _byId.Length));
            if (valid)
            {
                AddToIndex(_byName, slot, NameHome(bytes));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public void Remove(ulong userId)
    {
        var slot = FindById(userId);
        if (slot < 0)
        {
            return;
        }

        ref var held = ref _slots[slot];
        RemoveFromIndex(_byId, slot, IdHome(userId, _byId.Length));
        if ((held.Tag & UnindexedFlag) == 0)
        {
            RemoveFromIndex(_byName, slot, NameHome(NameBytes(held)));
        }

        _namesDead += NameSize(held.NameOffset);
        held = default; // Roles null marks a free slot, and lets the role list go.
        _freeSlots.Push(slot);
        Count--;
        CompactNamesIfMostlyDead();
    }

    public GuildMember? Get(ulong userId) => FindById(userId) is var slot and >= 0 ? ToMember(slot) : null;

    /// <summary>Members whose username equals <paramref name="username"/>: A-Z case-insensitively, every other character exactly.</summary>
    public IReadOnlyList<GuildMember> FindByUsername(string username)
    {
        var rented = Encode(username, out var query, out var valid);
        try
        {
            if (!valid)
            {
                return [];
            }

            List<GuildMember>? found = null;
            var mask = _byName.Length - 1;
            for (var i = NameHome(query); _byName[i] != 0; i = (i + 1) & mask)
            {
                var slot = _byName[i] - 1;
                if (AsciiEqualsIgnoreCase(NameBytes(_slots[slot]), query))
                {
                    (found ??= []).Add(ToMember(slot));
                }
            }

            return found ?? (IReadOnlyList<GuildMember>)[];
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Hands back what the fill's growth left unused: the arena without dead names, the slots at their count.</summary>
    public void Trim()
    {
        Trimmed = true;
        RebuildNames(_namesUsed - _namesDead);
        // Free slots below the high-water mark stay (they are reused first); only the unused tail goes.
        if (_slotsUsed < _slots.Length)
        {
            Array.Resize(ref _slots, Math.Max(_slotsUsed, 4));
        }
    }

    /// <summary>Bytes this table holds in its arrays (not the shared role lists), for the memory measure.</summary>
    internal long ArrayBytes => (long)_slots.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<Slot>()
        + ((long)_byId.Length + _byName.Length) * sizeof(int) + _names.Length;

    private GuildMember ToMember(int slot)
    {
        ref readonly var held = ref _slots[slot];
        var discriminator = held.Tag & DiscriminatorMask;
        var username = Encoding.UTF8.GetString(NameBytes(held));
        return new GuildMember(
            new DiscordUser(held.UserId, username, discriminator == 0 ? "0" : discriminator.ToString("D4", CultureInfo.InvariantCulture), null, (held.Tag & BotFlag) != 0),
            null,
            held.Roles!);
    }

    private int FindById(ulong userId)
    {
        var mask = _byId.Length - 1;
        for (var i = IdHome(userId, _byId.Length); _byId[i] != 0; i = (i + 1) & mask)
        {
            if (_slots[_byId[i] - 1].UserId == userId)
            {
                return _byId[i] - 1;
            }
        }

        return -1;
    }

    private int TakeSlot()
    {
        if (_freeSlots.TryPop(out var free))
        {
            return free;
        }

        if (_slotsUsed == _slots.Length)
        {
            Array.Resize(ref _slots, Grow(_slots.Length, _slotsUsed + 1));
        }

        return _slotsUsed++;
    }

    private int Grow(int current, int needed) => Math.Max(needed, current + Math.Max(16, current / (Trimmed ? 8 : 2)));

    // Slot numbers are stored plus one, so 0 means an empty cell.
    private static void AddToIndex(int[] index, int slot, int home)
    {
        var mask = index.Length - 1;
        var i = home;
        while (index[i] != 0)
        {
            i = (i + 1) & mask;
        }

        index[i] = slot + 1;
    }

    /// <summary>
    /// Removes the slot from a linear-probing index by backward shift (Knuth, TAOCP vol. 3, 6.4 Algorithm R): later
    /// cells of the run move into the gap unless their home lies after it, so no tombstones are left to slow lookups.
    /// </summary>
    private void RemoveFromIndex(int[] index, int slot, int home)
    {
        var mask = index.Length - 1;
        var gap = home;
        while (index[gap] != slot + 1)
        {
            gap = (gap + 1) & mask;
        }

        var next = gap;
        while (true)
        {
            index[gap] = 0;
            while (true)
            {
                next = (next + 1) & mask;
                if (index[next] == 0)
                {
                    return;
                }

                var nextHome = ReferenceEquals(index, _byId) ? IdHome(_slots[index[next] - 1].UserId, index.Length) : NameHome(NameBytes(_slots[index[next] - 1]));
                // The cell stays when its home is cyclically within (gap, next]: moving it before its home would hide it.
                var stays = gap <= next ? gap < nextHome && nextHome <= next : gap < nextHome || nextHome <= next;
                if (!stays)
                {
                    break;
                }
            }

            index[gap] = index[next];
            gap = next;
        }
    }

    /// <summary>Keeps the indexes at most three quarters full (linear probing slows sharply above that).</summary>
    private void EnsureIndexRoom()
    {
        if ((long)(Count + 1) * 4 <= (long)_byId.Length * 3)
        {
            return;
        }

        _byId = new int[_byId.Length * 2];
        _byName = new int[_byId.Length];
        for (var slot = 0; slot < _slotsUsed; slot++)
        {
            ref readonly var held = ref _slots[slot];
            if (held.Roles is null)
            {
                continue;
            }

            AddToIndex(_byId, slot, IdHome(held.UserId, _byId.Length));
            if ((held.Tag & UnindexedFlag) == 0)
            {
                AddToIndex(_byName, slot, NameHome(NameBytes(held)));
            }
        }
    }

    private static int IndexSizeFor(int members) => (int)Math.Max(16, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)((long)members * 4 / 3 + 1)));

    // HashCode is seeded randomly per process, so ids and names chosen by members cannot be crafted to share a run.
    private static int IdHome(ulong userId, int size) => HashCode.Combine(userId) & (size - 1);

    private int NameHome(ReadOnlySpan<byte> name)
    {
        var hash = new HashCode();
        Span<byte> lower = stackalloc byte[64];
        while (!name.IsEmpty)
        {
            var part = name[..Math.Min(name.Length, lower.Length)];
            for (var i = 0; i < part.Length; i++)
            {
                lower[i] = Lower(part[i]);
            }

            hash.AddBytes(lower[..part.Length]);
            name = name[part.Length..];
        }

        return hash.ToHashCode() & (_byName.Length - 1);
    }

    /// <summary>
    /// Compares A-Z case-insensitively and every other byte exactly. On UTF-8 this is the same as comparing the strings'
    /// characters that way: bytes of multi-byte sequences are all ≥ 0x80, so only ASCII letters fold (no Unicode folding,
    /// which would make look-alikes such as U+212A KELVIN SIGN equal to "k").
    /// </summary>
    private static bool AsciiEqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i] && Lower(a[i]) != Lower(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static byte Lower(byte c) => c is >= (byte)'A' and <= (byte)'Z' ? (byte)(c | 0x20) : c;

    /// <summary>The name's UTF-8 bytes in <paramref name="bytes"/>, in a pooled array the caller returns; invalid UTF-16 flagged.</summary>
    private static byte[] Encode(string name, out ReadOnlySpan<byte> bytes, out bool valid)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(name.Length));
        var status = Utf8.FromUtf16(name, rented, out _, out var written, replaceInvalidSequences: false);
        valid = status == OperationStatus.Done;
        if (!valid)
        {
            written = Encoding.UTF8.GetBytes(name, rented);
        }

        bytes = rented.AsSpan(0, written);
        return rented;
    }

    private ReadOnlySpan<byte> NameBytes(in Slot slot)
    {
        var length = NameLength(slot.NameOffset, out var header);
        return _names.AsSpan(slot.NameOffset + header, length);
    }

    private int NameSize(int offset) => NameLength(offset, out var header) + header;

    private int NameLength(int offset, out int header)
    {
        if (_names[offset] != LongName)
        {
            header = 1;
            return _names[offset];
        }

        header = 5;
        return BitConverter.ToInt32(_names, offset + 1);
    }

    private int AppendName(ReadOnlySpan<byte> name)
    {
        var header = name.Length < LongName ? 1 : 5;
        var needed = _namesUsed + header + name.Length;
        if (needed > _names.Length)
        {
            Array.Resize(ref _names, Grow(_names.Length, needed));
        }

        var offset = _namesUsed;
        if (header == 1)
        {
            _names[offset] = (byte)name.Length;
        }
        else
        {
            _names[offset] = LongName;
            BitConverter.TryWriteBytes(_names.AsSpan(offset + 1), name.Length);
        }

        name.CopyTo(_names.AsSpan(offset + header));
        _namesUsed = needed;
        return offset;
    }

    /// <summary>Renames and leaves leave their old names behind; once they outweigh the live ones the arena is rewritten.</summary>
    private void CompactNamesIfMostlyDead()
    {
        if (_namesDead > 4096 && _namesDead > _namesUsed / 2)
        {
            var live = _namesUsed - _namesDead;
            RebuildNames(live + live / 8);
        }
    }

    private void RebuildNames(int capacity)
    {
        var old = _names;
        _names = new byte[Math.Max(capacity, 16)];
        _namesUsed = 0;
        _namesDead = 0;
        for (var slot = 0; slot < _slotsUsed; slot++)
        {
            ref var held = ref _slots[slot];
            if (held.Roles is null)
            {
                continue;
            }

            var length = old[held.NameOffset] != LongName ? old[held.NameOffset] : BitConverter.ToInt32(old, held.NameOffset + 1);
            var header = length < LongName ? 1 : 5;
            held.NameOffset = AppendName(old.AsSpan(held.NameOffset + header, length));
        }
    }

    /// <summary>A member in 24 bytes. <see cref="Roles"/> is null in a free slot; a held member has at least an empty list.</summary>
    private struct Slot
    {
        public ulong UserId;
        public ulong[]? Roles;
        public int NameOffset;
        public ushort Tag;
    }
}
