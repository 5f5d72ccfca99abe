"""Outlook .msg files for the tests, written from scratch: a Compound File Binary (MS-CFB,
version 3) holding the MAPI property streams of MS-OXMSG. Small, and only what an email needs:
subject, sender, the internet headers Outlook keeps, the text, the send time, attachments."""

import struct
from datetime import UTC, datetime

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FAT_SECTOR, NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def _utf16(text):
    return text.encode("utf-16-le")


def _property(tag, value):
    # A fixed-size property entry: tag, flags (readable|writable), 8 bytes of value.
    return struct.pack("<II", tag, 6) + value.ljust(8, b"\0")


def _filetime(moment):
    ticks = int((moment - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)
    return struct.pack("<Q", ticks)


def make_msg(
    *,
    subject,
    sender_name,
    sender_email,
    to,
    body,
    sent_at,
    message_id,
    cc="",
    attachments=(),
):
    """The bytes of an Outlook .msg; ``attachments`` are (filename, bytes, mime type)."""
    headers = (
        f"From: {sender_name} <{sender_email}>\r\nTo: {to}\r\n"
        + (f"Cc: {cc}\r\n" if cc else "")
        + f"Subject: {subject}\r\nMessage-ID: {message_id}\r\n\r\n"
    )
    props = struct.pack("<8xIIII8x", 0, len(attachments), 0, len(attachments))
    props += _property(0x00390040, _filetime(sent_at))  # PR_CLIENT_SUBMIT_TIME
    props += _property(0x0E070003, struct.pack("<I", 1))  # PR_MESSAGE_FLAGS: read, sent
    root = {
        "__properties_version1.0": props,
        "__substg1.0_001A001F": _utf16("IPM.Note"),
        "__substg1.0_0037001F": _utf16(subject),
        "__substg1.0_0C1A001F": _utf16(sender_name),
        "__substg1.0_5D01001F": _utf16(sender_email),
        "__substg1.0_007D001F": _utf16(headers),
        "__substg1.0_1000001F": _utf16(body),
        "__substg1.0_1035001F": _utf16(message_id),
        "__nameid_version1.0": {
            "__substg1.0_00020102": b"",
            "__substg1.0_00030102": b"",
            "__substg1.0_00040102": b"",
        },
    }
    for number, (filename, data, mime) in enumerate(attachments):
        attach_props = b"\0" * 8 + _property(0x37050003, struct.pack("<I", 1))  # by value
        root[f"__attach_version1.0_#{number:08X}"] = {
            "__properties_version1.0": attach_props,
            "__substg1.0_3707001F": _utf16(filename),
            "__substg1.0_3704001F": _utf16(filename[:12]),
            "__substg1.0_370E001F": _utf16(mime),
            "__substg1.0_37010102": data,
        }
    return compound_file(root)


def compound_file(tree):
    """A CFB v3 file from ``{name: bytes (a stream) or dict (a storage)}``."""
    entries = [{"name": "Root Entry", "type": 5, "child": NONE, "right": NONE}]

    def add(storage_index, children):
        previous = None
        for name, node in children.items():
            index = len(entries)
            entry = {"name": name, "child": NONE, "right": NONE}
            entries.append(entry)
            if previous is None:
                entries[storage_index]["child"] = index
            else:
                entries[previous]["right"] = index
            previous = index
            if isinstance(node, dict):
                entry["type"] = 1
                add(index, node)
            else:
                entry["type"], entry["data"] = 2, node

    add(0, tree)

    # Small streams live in the mini stream (64-byte sectors); large ones in sectors.
    mini_stream, mini_fat, big = b"", [], []
    for entry in entries:
        data = entry.get("data")
        if data is None:
            continue
        entry["size"] = len(data)
        if not data:
            entry["start"] = END
        elif len(data) < CUTOFF:
            count = -(-len(data) // MINI)
            start = len(mini_fat)
            mini_fat += [start + i + 1 for i in range(count - 1)] + [END]
            entry["start"] = start
            mini_stream += data.ljust(count * MINI, b"\0")
        else:
            big.append(entry)

    sectors, fat = [], []

    def place(data):
        count = -(-len(data) // SECTOR)
        start = len(sectors)
        for i in range(count):
            sectors.append(data[i * SECTOR : (i + 1) * SECTOR].ljust(SECTOR, b"\0"))
            fat.append(start + i + 1 if i < count - 1 else END)
        return start if count else END

    for entry in big:
        entry["start"] = place(entry["data"])
    entries[0]["start"] = place(mini_stream) if mini_stream else END
    entries[0]["size"] = len(mini_stream)
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat) if mini_fat else b""
    mini_fat_start = place(mini_fat_bytes) if mini_fat else END
    mini_fat_count = -(-len(mini_fat_bytes) // SECTOR)
    directory = b"".join(_directory_entry(entry) for entry in entries)
    directory_start = place(directory.ljust(-(-len(directory) // SECTOR) * SECTOR, b"\0"))

    fat_count = 1
    while (len(sectors) + fat_count) > fat_count * (SECTOR // 4):
        fat_count += 1
    assert fat_count <= 109, "too large for a file without DIFAT sectors"
    fat_ids = list(range(len(sectors), len(sectors) + fat_count))
    fat += [FAT_SECTOR] * fat_count
    fat += [FREE] * (fat_count * (SECTOR // 4) - len(fat))
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat)
    sectors += [fat_bytes[i * SECTOR : (i + 1) * SECTOR] for i in range(fat_count)]

    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack(
            "<IIIIIIIII",
            0,
            fat_count,
            directory_start,
            0,
            CUTOFF,
            mini_fat_start,
            mini_fat_count,
            END,
            0,
        )
        + struct.pack("<109I", *(fat_ids + [FREE] * (109 - fat_count)))
    )
    return header + b"".join(sectors)


def _directory_entry(entry):
    name = _utf16(entry["name"])[:62]
    return (
        name.ljust(64, b"\0")
        + struct.pack("<HBB", len(name) + 2, entry["type"], 1)
        + struct.pack("<III", NONE, entry["right"], entry["child"])
        + b"\0" * 16  # CLSID
        + b"\0" * 4  # state bits
        + b"\0" * 16  # creation and modification times
        + struct.pack(
            "<IQ", entry.get("start", END) if entry["type"] != 1 else 0, entry.get("size", 0)
        )
    )
