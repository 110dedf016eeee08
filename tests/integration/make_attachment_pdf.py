#!/usr/bin/env python3
"""Writes a small invented PDF for the attachment tests (no library needed).

    make_attachment_pdf.py OUT.pdf "line one" "line two" ...   one page, these lines
    make_attachment_pdf.py --blank OUT.pdf                     one page, no text at all

The text is Helvetica with WinAnsiEncoding, so Danish letters (æ, ø, å) come
out of poppler as they went in. The xref offsets are computed, so poppler
opens the file without repairing it.
"""
import sys


def pdf_string(s):
    b = s.encode("cp1252")
    return b"(" + b.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def page_stream(lines):
    out = [b"BT /F1 11 Tf 14 TL 60 780 Td"]
    for ln in lines:
        out.append(pdf_string(ln) + b" Tj T*")
    out.append(b"ET")
    return b"\n".join(out) + b"\n"


def write_pdf(path, lines):
    content = page_stream(lines) if lines else b"\n"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    with open(path, "wb") as f:
        f.write(out)


def main():
    args = sys.argv[1:]
    if args and args[0] == "--blank":
        write_pdf(args[1], [])
    elif len(args) >= 2:
        write_pdf(args[0], args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
