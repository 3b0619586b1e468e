"""Our own file policy, applied to every stored file before any ATS sees it.

Executables and archives are refused by what their bytes are (the stored file's sniffed type and
its first bytes), never by the name or the type SEEK declared: a `setup.exe` renamed `cv.pdf` and
declared `application/pdf` is still refused. Office documents that are ZIP containers (docx, xlsx,
pptx, ODF) are told apart by the sniffer and pass. Each target's own rules apply after this.
"""

from __future__ import annotations

from seek_sync.seek.sniff import HEAD_BYTES

# Sniffed types that are programs, or archives that can carry anything past every other check.
EXECUTABLE_TYPES = frozenset(
    {
        "application/vnd.microsoft.portable-executable",
        "application/x-dosexec",
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-executable",
        "application/x-elf",
        "application/x-sharedlib",
        "application/x-mach-binary",
        "application/x-msi",
        "application/x-ms-installer",
        "application/java",
        "application/java-archive",
        "application/x-java-applet",
        "application/wasm",
        "application/x-sh",
        "application/x-shellscript",
        "application/x-bat",
    }
)
ARCHIVE_TYPES = frozenset(
    {
        "application/zip",
        "application/gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-lzip",
        "application/zstd",
        "application/x-tar",
        "application/vnd.rar",
        "application/x-rar-compressed",
        "application/x-7z-compressed",
        "application/vnd.ms-cab-compressed",
        "application/x-iso9660-image",
        "application/x-apple-diskimage",
    }
)
# First bytes of executables the sniffer leaves unnamed or calls text (it knows PE and MZ itself).
EXECUTABLE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "an ELF executable"),
    (b"\xfe\xed\xfa\xce", "a Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O universal binary or Java class"),
    (b"\x00asm", "a WebAssembly module"),
    (b"#!", "a script with an interpreter line"),
)
ARCHIVE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (b"LZIP", "an lzip archive"),
)
UNNAMED = frozenset({"", "application/octet-stream", "text/plain"})


def refusal(sniffed_type: str | None, head: bytes) -> str | None:
    """Why our policy refuses a file with this sniffed type and these first bytes, or None."""
    mime = (sniffed_type or "").split(";")[0].strip().lower()
    if mime in EXECUTABLE_TYPES:
        return f"content is an executable ({mime}); seek-sync never sends executables"
    if mime in ARCHIVE_TYPES:
        return f"content is an archive ({mime}); seek-sync never sends archives"
    if mime not in UNNAMED:
        return None  # the sniffer named a document type: its signature matched at offset 0
    sample = head[:HEAD_BYTES]
    for magic, what in EXECUTABLE_MAGIC:
        if sample.startswith(magic):
            return f"content is {what}; seek-sync never sends executables"
    if len(sample) > 262 and sample[257:262] == b"ustar":
        return "content is a tar archive; seek-sync never sends archives"
    for magic, what in ARCHIVE_MAGIC:
        if sample.startswith(magic):
            return f"content is {what}; seek-sync never sends archives"
    return None
